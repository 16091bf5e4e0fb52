// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func csr(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "evil", OrganizationalUnit: []string{"admin"}},
		DNSNames: []string{"management.azure.com"},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestLoadCreatesThenReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	a, err := Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{"", 0o700}, {controlKeyFile, 0o600}, {workloadKey, 0o600}, {LogKeyFile, 0o600}, {ControlCAFile, 0o644}} {
		fi, err := os.Stat(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != f.mode {
			t.Errorf("%s mode %v, want %v", f.name, fi.Mode().Perm(), f.mode)
		}
	}
	b, err := Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if string(a.ControlCAPEM()) != string(b.ControlCAPEM()) || string(a.WorkloadCAPEM()) != string(b.WorkloadCAPEM()) {
		t.Error("reload made new CAs")
	}
	if string(a.ControlCAPEM()) == string(a.WorkloadCAPEM()) {
		t.Error("control CA and workload root are the same")
	}
	if len(a.LogKey()) != ed25519.PrivateKeySize || !a.LogKey().Equal(b.LogKey()) {
		t.Error("reload made a new audit log key")
	}
	for _, f := range []string{controlKeyFile, LogKeyFile} {
		if err := os.Chmod(filepath.Join(dir, f), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir, "test"); err == nil {
			t.Errorf("Load accepted a world-readable %s", f)
		}
		os.Chmod(filepath.Join(dir, f), 0o600)
	}
}

func TestIssue(t *testing.T) {
	a, err := Load(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	nodeKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	good := csr(t, nodeKey)
	forged := append([]byte(nil), good...)
	forged[len(forged)-5] ^= 0xff

	tests := []struct {
		name string
		csr  []byte
		ok   bool
	}{
		{"p256", good, true},
		{"bad signature", forged, false},
		{"p384", csr(t, p384), false},
		{"ed25519", csr(t, edKey), false},
		{"garbage", []byte("nope"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := a.NodeClientCert("node-1", tt.csr)
			if (err == nil) != tt.ok {
				t.Fatalf("NodeClientCert err = %v, want ok=%v", err, tt.ok)
			}
			_, err = a.NodeCA("node-1", "vm1", tt.csr)
			if (err == nil) != tt.ok {
				t.Fatalf("NodeCA err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			cert, _ := x509.ParseCertificate(der)
			if _, err := cert.Verify(x509.VerifyOptions{Roots: a.ControlPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Fatalf("client cert does not verify: %v", err)
			}
			if id, ok := NodeID(cert); !ok || id != "node-1" {
				t.Errorf("NodeID = %q, %v", id, ok)
			}
			if len(cert.DNSNames) != 0 || cert.Subject.CommonName != "node-1" {
				t.Errorf("client cert copied the CSR: %v %v", cert.DNSNames, cert.Subject)
			}
		})
	}
}

func TestNodeCAChainsToWorkloadRoot(t *testing.T) {
	a, err := Load(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := a.NodeCA("node-1", "vm1", csr(t, caKey))
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := x509.ParseCertificate(der)
	if !inter.IsCA || !inter.MaxPathLenZero {
		t.Fatalf("node CA: IsCA %v MaxPathLenZero %v", inter.IsCA, inter.MaxPathLenZero)
	}
	if _, ok := NodeID(inter); ok {
		t.Error("a node CA passes as a node client certificate")
	}
	// The node mints a leaf; workloads trusting only the root accept it.
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial(), DNSNames: []string{"management.azure.com"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, inter, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(a.WorkloadCAPEM())
	inters := x509.NewCertPool()
	inters.AddCert(inter)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "management.azure.com", Roots: roots, Intermediates: inters}); err != nil {
		t.Fatalf("leaf under node CA does not verify against the workload root: %v", err)
	}
	// The control CA does not vouch for it.
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "management.azure.com", Roots: a.ControlPool(), Intermediates: inters}); err == nil {
		t.Error("leaf verifies against the control CA")
	}
}

func TestServerCert(t *testing.T) {
	a, err := Load(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.ServerCert("control.example", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"control.example", "127.0.0.1"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: a.ControlPool()}); err != nil {
			t.Errorf("server cert for %s: %v", name, err)
		}
	}
	if _, ok := NodeID(c.Leaf); ok {
		t.Error("server cert passes as a node certificate")
	}
	fake := &x509.Certificate{Subject: pkix.Name{CommonName: "n", OrganizationalUnit: []string{NodeOU}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, URIs: []*url.URL{nodeURI("other")}}
	if _, ok := NodeID(fake); ok {
		t.Error("NodeID accepted a CN that disagrees with the URI")
	}
	if _, err := a.ServerCert(); err == nil {
		t.Error("ServerCert without names succeeded")
	}
}
