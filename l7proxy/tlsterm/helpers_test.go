// SPDX-License-Identifier: Apache-2.0

// Test helpers: an in-memory connection, ClientHellos from crypto/tls and
// from files, and a node intermediate CA from control/pki.

package tlsterm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/control/pki"
)

// memConn is a net.Conn that reads data, at most chunk bytes per Read
// (0: no limit), and discards writes. It counts the bytes read.
type memConn struct {
	data  []byte
	off   int
	chunk int
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.off >= len(c.data) {
		return 0, io.EOF
	}
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	n := copy(p, c.data[c.off:])
	c.off += n
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// goHello returns the first flight crypto/tls's client sends with cfg (its
// ClientHello), captured over a pipe.
func goHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = tls.Client(a, cfg).Handshake() // fails when b closes
	})
	h, err := Peek(b, 5*time.Second)
	b.Close()
	a.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("peek crypto/tls hello: %v", err)
	}
	return h.Raw
}

// helloFiles returns the ClientHellos captured from openssl s_client and
// curl in testdata/hello, by file name.
func helloFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "hello", "*.bin"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captured hellos: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// nodeCA is a node intermediate CA issued by control/pki's workload root,
// as a node gets it at enrolment, with the pool of that root.
type nodeCA struct {
	cert     tls.Certificate
	roots    *x509.CertPool
	rootPath string // the root as a PEM file
}

func newNodeCA(t testing.TB, validity time.Duration) nodeCA {
	t.Helper()
	dir := t.TempDir()
	auth, err := pki.Load(filepath.Join(dir, "pki"), "tlsterm test")
	if err != nil {
		t.Fatal(err)
	}
	auth.NodeCertValidity = validity
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "node"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	der, err := auth.NodeCA("node-1", "test-node", csr)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(auth.WorkloadCAPEM()) {
		t.Fatal("workload root PEM")
	}
	rootPath := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(rootPath, auth.WorkloadCAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return nodeCA{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, roots: roots, rootPath: rootPath}
}

// newMinter returns a Minter with ca and the clock now (nil: time.Now).
func newMinter(t testing.TB, ca nodeCA, now func() time.Time) *Minter {
	t.Helper()
	m, err := NewMinter(MinterConfig{CA: ca.cert, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// refragment re-splits the handshake payload of the records in raw into
// records of at most size bytes.
func refragment(t testing.TB, raw []byte, size int) []byte {
	t.Helper()
	var payload []byte
	for len(raw) >= 5 {
		n := int(raw[3])<<8 | int(raw[4])
		payload = append(payload, raw[5:5+n]...)
		raw = raw[5+n:]
	}
	var out []byte
	for len(payload) > 0 {
		n := min(size, len(payload))
		out = append(out, 0x16, 3, 1, byte(n>>8), byte(n))
		out = append(out, payload[:n]...)
		payload = payload[n:]
	}
	return out
}
