// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/control"
	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/pki"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

const (
	cliIssuer   = "https://login.example.test/tenant/v2.0"
	cliAudience = "api://interlock-control"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until cond holds or fails the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// plane is an in-process control plane with a test OIDC issuer, and the
// files the CLI needs to reach it.
type plane struct {
	t      *testing.T
	dir    string
	addr   string
	caFile string
	key    *rsa.PrivateKey
	db     *store.DB
	ca     *pki.Authority
	admin  string
}

func startPlane(t *testing.T) *plane {
	t.Helper()
	p := &plane{t: t, dir: t.TempDir()}
	var err error
	p.key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
		"n": base64.RawURLEncoding.EncodeToString(p.key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(jwks) }))
	t.Cleanup(keys.Close)

	ctx := context.Background()
	if p.db, err = store.Open(ctx, filepath.Join(p.dir, "store")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.db.Close() })
	if p.ca, err = pki.Load(filepath.Join(p.dir, "pki"), "test"); err != nil {
		t.Fatal(err)
	}
	p.caFile = p.ca.ControlCAPath()
	if p.admin, err = auth.LoadOrCreateAdminToken(filepath.Join(p.dir, "admin.token")); err != nil {
		t.Fatal(err)
	}
	o, err := auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: cliIssuer, Audience: cliAudience, JWKSURL: keys.URL, Bindings: []auth.Binding{
		{Claim: "groups", Value: "approvers", Role: auth.RoleApprover},
		{Claim: "groups", Value: "auditors", Role: auth.RoleAuditor},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := control.New(control.Config{Store: p.db, Authority: p.ca, ServerNames: []string{"127.0.0.1"},
		Validate: validatePolicy, OIDC: o, AdminToken: p.admin})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = lis.Addr().String()
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	return p
}

// tokenFile writes a person's token (or any string) to a 0600 file.
func (p *plane) tokenFile(name, token string) string {
	path := filepath.Join(p.dir, name+".token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// person returns a token file for sub in groups.
func (p *plane) person(sub string, groups ...string) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": cliIssuer, "aud": cliAudience, "sub": sub, "preferred_username": sub + "@example.test",
		"groups": groups, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.tokenFile(sub, s)
}

// cli runs interlock with the client flags for tokenFile.
func (p *plane) cli(tokenFile string, args ...string) (string, error) {
	p.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--server", p.addr, "--ca", p.caFile, "--token-file", tokenFile)
	err := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), err
}

// node enrols a node and connects as it.
func (p *plane) node(name string) *grpc.ClientConn {
	t := p.t
	t.Helper()
	tok, err := control.NewBootstrapToken(context.Background(), p.db, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caCSR, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, caKey)
	cfg := &tls.Config{RootCAs: p.ca.ControlPool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
	anon, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	resp, err := interlockv1.NewNodeServiceClient(anon).Enroll(context.Background(), &interlockv1.EnrollRequest{
		NodeName: name, BootstrapToken: tok, ClientCsr: csr, CaCsr: caCSR})
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.Clone()
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{resp.GetClientCert()}, PrivateKey: key}}
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// request files an approval request from a node for requester.
func request(t *testing.T, node *grpc.ClientConn, requester, fp string, min uint32) *interlockv1.Approval {
	t.Helper()
	sum := sha256.Sum256([]byte(fp))
	a, err := interlockv1.NewApprovalServiceClient(node).Request(context.Background(), &interlockv1.ApprovalRequestRequest{
		Requester: &interlockv1.Identity{Subject: requester}, Target: "arm",
		Operation: "Microsoft.Storage/storageAccounts/regenerateKey/action", Rule: "key-rotation",
		Summary:     "POST /subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/regenerateKey",
		Fingerprint: sum[:], MinApprovals: min,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// uploadChunk sends one chunk of events from a node.
func uploadChunk(t *testing.T, node *grpc.ClientConn, seq uint64, evs []*interlockv1.SessionEvent) {
	t.Helper()
	raw, _ := proto.Marshal(&interlockv1.EventBatch{Events: evs})
	enc, _ := zstd.NewWriter(nil)
	z := enc.EncodeAll(raw, nil)
	enc.Close()
	sum := sha256.Sum256(z)
	s, err := interlockv1.NewSessionServiceClient(node).Upload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&interlockv1.UploadChunk{Seq: seq, Zstd: z, Sha256: sum[:], Events: uint32(len(evs)), UncompressedSize: uint64(len(raw))}); err != nil {
		t.Fatal(err)
	}
	if ack, err := s.Recv(); err != nil || ack.GetSeq() != seq {
		t.Fatalf("ack %v, %v", ack, err)
	}
	s.CloseSend()
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
