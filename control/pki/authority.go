// SPDX-License-Identifier: Apache-2.0

// Loading or creating the CA key pairs on disk.

package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// File names inside the directory given to Load.
const (
	ControlCAFile  = "ca.crt"
	controlKeyFile = "ca.key"
	WorkloadCAFile = "workload-ca.crt"
	workloadKey    = "workload-ca.key"
)

// CAValidity is how long a newly created CA is valid.
const CAValidity = 10 * 365 * 24 * time.Hour

// Authority holds the control CA and the workload root.
type Authority struct {
	dir      string
	control  signer
	workload signer
	logKey   ed25519.PrivateKey
	// NodeCertValidity is how long node client certificates and node
	// intermediate CAs are valid. Set it before issuing; 0 means one year.
	NodeCertValidity time.Duration
}

type signer struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// Load reads the CAs and the audit log key from dir, creating dir (0700)
// and any missing CA or key.
// name names the control plane in the CAs' subjects.
func Load(dir, name string) (*Authority, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	a := &Authority{dir: dir}
	var err error
	if a.control, err = loadOrCreate(dir, ControlCAFile, controlKeyFile, name+" control CA"); err != nil {
		return nil, fmt.Errorf("pki: control CA: %w", err)
	}
	if a.workload, err = loadOrCreate(dir, WorkloadCAFile, workloadKey, name+" workload root"); err != nil {
		return nil, fmt.Errorf("pki: workload root: %w", err)
	}
	if a.logKey, err = loadOrCreateLogKey(dir); err != nil {
		return nil, fmt.Errorf("pki: audit log key: %w", err)
	}
	return a, nil
}

// ControlCAPath is the file holding the control CA certificate (PEM),
// which clients of the control plane trust.
func (a *Authority) ControlCAPath() string { return filepath.Join(a.dir, ControlCAFile) }

// ControlCAPEM is the control CA certificate as PEM.
func (a *Authority) ControlCAPEM() []byte { return a.control.certPEM }

// WorkloadCAPEM is the workload root certificate as PEM.
func (a *Authority) WorkloadCAPEM() []byte { return a.workload.certPEM }

// ControlPool is a pool holding only the control CA.
func (a *Authority) ControlPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.control.cert)
	return p
}

func loadOrCreate(dir, certFile, keyFile, cn string) (signer, error) {
	certPath, keyPath := filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	s, err := load(certPath, keyPath)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	if _, kerr := os.Stat(keyPath); kerr == nil {
		return signer{}, fmt.Errorf("%s exists without %s", keyFile, certFile)
	}
	return create(certPath, keyPath, cn)
}

func load(certPath, keyPath string) (signer, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return signer{}, err
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		return signer{}, fmt.Errorf("%s without its key: %w", certPath, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return signer{}, fmt.Errorf("%s has mode %v: want 0600", keyPath, fi.Mode().Perm())
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return signer{}, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return signer{}, fmt.Errorf("%s or %s is not PEM", certPath, keyPath)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return signer{}, fmt.Errorf("parse %s: %w", certPath, err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return signer{}, fmt.Errorf("parse %s: %w", keyPath, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return signer{}, fmt.Errorf("%s does not match %s", keyPath, certPath)
	}
	return signer{cert: cert, certPEM: certPEM, key: key}, nil
}

func create(certPath, keyPath, cn string) (signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return signer{}, fmt.Errorf("generate key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Interlock"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            1,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return signer{}, fmt.Errorf("self-sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return signer{}, fmt.Errorf("parse: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return signer{}, fmt.Errorf("marshal key: %w", err)
	}
	// The key first: a certificate without its key is an error on load,
	// a key without its certificate is too, but never silently replaced.
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return signer{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeNew(certPath, certPEM, 0o644); err != nil {
		return signer{}, err
	}
	return signer{cert: cert, certPEM: certPEM, key: key}, nil
}

// writeNew writes a file that must not exist yet, and fsyncs it.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}
