// SPDX-License-Identifier: Apache-2.0

// Identity: what enrolment gave the node, and where it keeps it.

package controlclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files in the node's state directory (mode 0700). Keys are 0600.
const (
	NodeFile       = "node.json"       // node id and name; written last at enrolment
	ClientKeyFile  = "client.key"      // the key of the mTLS client certificate
	ClientCertFile = "client.crt"      // the node's client certificate
	CAKeyFile      = "node-ca.key"     // the key of the node's intermediate CA
	CACertFile     = "node-ca.crt"     // the node's intermediate CA
	ControlCAFile  = "control-ca.pem"  // verifies the control plane
	WorkloadCAFile = "workload-ca.pem" // what workloads must trust
	PolicyFile     = "policy.bundle"   // the last good policy bundle
)

// Identity is an enrolled node's credentials. It is read-only once made.
type Identity struct {
	NodeID   string
	NodeName string
	// ClientCert authenticates the node to the control plane (Leaf set).
	ClientCert tls.Certificate
	// NodeCA and NodeCAKey mint TLS leaves for workloads' connections.
	NodeCA    *x509.Certificate
	NodeCAKey crypto.Signer
	// ControlCAs verifies the control plane; ControlCAPEM is its source.
	ControlCAs   *x509.CertPool
	ControlCAPEM []byte
	// WorkloadCAPEM is the root workloads trust (above NodeCA).
	WorkloadCAPEM []byte
}

// nodeInfo is node.json.
type nodeInfo struct {
	NodeID   string `json:"node_id"`
	NodeName string `json:"node_name"`
}

// ErrNotEnrolled is returned by LoadIdentity for a state directory that
// holds no enrolment.
var ErrNotEnrolled = errors.New("controlclient: node not enrolled")

// LoadIdentity reads the identity enrolment saved in dir.
func LoadIdentity(dir string) (*Identity, error) {
	b, err := os.ReadFile(filepath.Join(dir, NodeFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("controlclient: %w", err)
	}
	var info nodeInfo
	if err := json.Unmarshal(b, &info); err != nil || info.NodeID == "" {
		return nil, fmt.Errorf("controlclient: %s: bad node file", filepath.Join(dir, NodeFile))
	}
	id := &Identity{NodeID: info.NodeID, NodeName: info.NodeName}
	clientKey, err := loadKey(filepath.Join(dir, ClientKeyFile))
	if err != nil {
		return nil, err
	}
	clientCert, err := loadCert(filepath.Join(dir, ClientCertFile))
	if err != nil {
		return nil, err
	}
	if !samePublicKey(clientCert, clientKey) {
		return nil, fmt.Errorf("controlclient: %s does not match %s", ClientCertFile, ClientKeyFile)
	}
	id.ClientCert = tls.Certificate{Certificate: [][]byte{clientCert.Raw}, PrivateKey: clientKey, Leaf: clientCert}
	caKey, err := loadKey(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, err
	}
	id.NodeCAKey = caKey
	if id.NodeCA, err = loadCert(filepath.Join(dir, CACertFile)); err != nil {
		return nil, err
	}
	if !samePublicKey(id.NodeCA, caKey) {
		return nil, fmt.Errorf("controlclient: %s does not match %s", CACertFile, CAKeyFile)
	}
	if id.ControlCAPEM, err = os.ReadFile(filepath.Join(dir, ControlCAFile)); err != nil {
		return nil, fmt.Errorf("controlclient: %w", err)
	}
	if id.ControlCAs, err = poolOf(id.ControlCAPEM); err != nil {
		return nil, err
	}
	if id.WorkloadCAPEM, err = os.ReadFile(filepath.Join(dir, WorkloadCAFile)); err != nil {
		return nil, fmt.Errorf("controlclient: %w", err)
	}
	return id, nil
}

// loadOrCreateKey returns the P-256 key in path, creating it (0600) when
// missing, so that an enrolment cut short reuses its keys.
func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	k, err := loadKey(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("controlclient: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("controlclient: marshal key: %w", err)
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("controlclient: %w", err)
	}
	return k, nil
}

// loadKey reads a PKCS#8 P-256 key from a file of mode 0600.
func loadKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := readPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("controlclient: key: %w", err) // keeps fs.ErrNotExist
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("controlclient: %s holds no PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("controlclient: %s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("controlclient: %s: not a P-256 key", path)
	}
	return ek, nil
}

func loadCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("controlclient: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("controlclient: %s holds no CERTIFICATE", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("controlclient: %s: %w", path, err)
	}
	return c, nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func samePublicKey(c *x509.Certificate, k *ecdsa.PrivateKey) bool {
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	return ok && pub.Equal(&k.PublicKey)
}

func poolOf(pemBytes []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("controlclient: control CA bundle holds no certificate")
	}
	return p, nil
}
