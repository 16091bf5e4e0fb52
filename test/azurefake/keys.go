// SPDX-License-Identifier: Apache-2.0

// RSA signing keys with self-signed certificates, and their JWKS form.

package azurefake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"
)

// signingKey is an RSA key pair with the self-signed certificate that Entra
// publishes for it. kid is the certificate's base64url SHA-1 thumbprint,
// which Entra also sends as x5t.
type signingKey struct {
	key  *rsa.PrivateKey
	cert []byte // DER
	kid  string
}

// newSigningKey makes a 2048-bit RSA key and a self-signed certificate for
// it, named like Entra's token signing certificates.
func newSigningKey(cn string) (*signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-sign %s: %w", cn, err)
	}
	sum := sha1.Sum(der)
	return &signingKey{key: key, cert: der, kid: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

// jwk is one entry of a JSON Web Key Set as Entra publishes it.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Kid    string   `json:"kid"`
	X5t    string   `json:"x5t"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X5c    []string `json:"x5c"`
	Issuer string   `json:"issuer,omitempty"`
}

// jwk returns k's public half; issuer is set for the v2 key set only.
func (k *signingKey) jwk(issuer string) jwk {
	pub := k.key.PublicKey
	return jwk{
		Kty:    "RSA",
		Use:    "sig",
		Kid:    k.kid,
		X5t:    k.kid,
		N:      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		X5c:    []string{base64.StdEncoding.EncodeToString(k.cert)},
		Issuer: issuer,
	}
}
