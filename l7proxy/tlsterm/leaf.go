// SPDX-License-Identifier: Apache-2.0

// Signing one leaf, and the names a leaf may be for.

package tlsterm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"time"
)

// leafBackdate is how far before now a leaf's validity starts, for clients
// whose clock is a little behind.
const leafBackdate = 5 * time.Minute

// normalizeName returns name lower-cased if it is a host name (LDH labels,
// underscores allowed, at most 253 bytes, no wildcard, no trailing dot) or
// the canonical form of an IP address.
func normalizeName(name string) (string, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		if a.Zone() != "" {
			return "", errors.New("IP address with a zone")
		}
		return a.Unmap().String(), nil
	}
	if name == "" || len(name) > 253 {
		return "", errors.New("not a host name")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", errors.New("not a host name")
		}
		for i := 0; i < len(label); i++ {
			switch b := label[i]; {
			case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_':
			default:
				return "", errors.New("not a host name")
			}
		}
	}
	return strings.ToLower(name), nil
}

// mint signs a new ECDSA P-256 leaf for name (normalized) valid from a
// little before now for m.lifetime, but not past the CA's expiry.
func (m *Minter) mint(name string, now time.Time) (*issued, error) {
	notAfter := now.Add(m.lifetime)
	if notAfter.After(m.ca.NotAfter) {
		notAfter = m.ca.NotAfter
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("CA %q expired at %s", m.ca.Subject.CommonName, m.ca.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		NotBefore:             now.Add(-leafBackdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if len(name) <= 64 {
		tmpl.Subject = pkix.Name{CommonName: name}
	}
	if a, err := netip.ParseAddr(name); err == nil {
		tmpl.IPAddresses = []net.IP{a.AsSlice()}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, m.ca, key.Public(), m.signer)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse leaf: %w", err)
	}
	chain := make([][]byte, 0, 1+len(m.chain))
	chain = append(append(chain, der), m.chain...)
	return &issued{
		cert:    &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf},
		renewAt: now.Add(notAfter.Sub(now) * 2 / 3),
		expires: notAfter,
	}, nil
}
