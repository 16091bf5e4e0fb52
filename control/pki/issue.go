// SPDX-License-Identifier: Apache-2.0

// Issuing the server certificate, node client certificates and node
// intermediate CAs.

package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"
)

// NodeOU marks a node client certificate in its subject.
const NodeOU = "interlock-node"

// ServerValidity is how long the control plane's server certificate is valid.
const ServerValidity = 365 * 24 * time.Hour

// ServerCert mints the control plane's TLS server certificate for names,
// each a DNS name or an IP address.
func (a *Authority) ServerCert(names ...string) (tls.Certificate, error) {
	if len(names) == 0 {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate: no names")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: generate server key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"Interlock"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(ServerValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.control.cert, key.Public(), a.control.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: sign server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: parse server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// NodeClientCert signs a node's client certificate (DER) for the public
// key of csr (DER PKCS#10), naming the node by its id.
func (a *Authority) NodeClientCert(nodeID string, csr []byte) ([]byte, error) {
	pub, err := csrKey(csr)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: nodeID, OrganizationalUnit: []string{NodeOU}, Organization: []string{"Interlock"}},
		URIs:         []*url.URL{nodeURI(nodeID)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(a.nodeValidity()),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.control.cert, pub, a.control.key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign node certificate: %w", err)
	}
	return der, nil
}

// NodeCA signs a node's intermediate CA (DER) under the workload root, for
// the public key of csr. It may sign leaves only (path length 0).
func (a *Authority) NodeCA(nodeID, nodeName string, csr []byte) ([]byte, error) {
	pub, err := csrKey(csr)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Interlock node " + nodeName, SerialNumber: nodeID, Organization: []string{"Interlock"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(a.nodeValidity()),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.workload.cert, pub, a.workload.key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign node CA: %w", err)
	}
	return der, nil
}

// NodeID returns the node id of a verified client certificate, and false
// when the certificate is not a node client certificate.
func NodeID(cert *x509.Certificate) (string, bool) {
	if !slices.Contains(cert.Subject.OrganizationalUnit, NodeOU) ||
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || cert.IsCA {
		return "", false
	}
	id := cert.Subject.CommonName
	for _, u := range cert.URIs {
		if u.String() == nodeURI(id).String() {
			return id, true
		}
	}
	return "", false
}

func nodeURI(id string) *url.URL { return &url.URL{Scheme: "interlock", Host: "node", Path: "/" + id} }

func (a *Authority) nodeValidity() time.Duration {
	if a.NodeCertValidity > 0 {
		return a.NodeCertValidity
	}
	return 365 * 24 * time.Hour
}

// csrKey parses a CSR, checks its signature and returns its P-256 key.
func csrKey(der []byte) (*ecdsa.PublicKey, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("pki: CSR signature: %w", err)
	}
	pub, ok := csr.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("pki: CSR key: want ECDSA P-256")
	}
	return pub, nil
}
