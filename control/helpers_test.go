// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/pki"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

const (
	testIssuer   = "https://login.example.test/tenant/v2.0"
	testAudience = "api://interlock-control"
)

// issuer is a test OIDC issuer: an RSA key and its JWKS on loopback.
type issuer struct {
	key     *rsa.PrivateKey
	jwksURL string
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	return &issuer{key: key, jwksURL: srv.URL}
}

// token mints a token for a person in groups.
func (i *issuer) token(t testing.TB, sub string, groups ...string) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": sub, "oid": "oid-" + sub,
		"preferred_username": sub + "@example.test", "groups": groups,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(i.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testServer is a control plane on 127.0.0.1 with its data in a temp dir.
type testServer struct {
	t      testing.TB
	dir    string
	iss    *issuer
	srv    *Server
	db     *store.DB
	ca     *pki.Authority
	addr   string
	admin  string
	cancel context.CancelFunc
	done   chan error
}

// acceptAll validates nothing but a marker: documents whose YAML is
// "invalid" are refused with a problem.
func acceptAll(docs []*interlockv1.PolicyDocument) error {
	for _, d := range docs {
		if string(d.GetYaml()) == "invalid" {
			return testProblems{{Document: d.GetName(), Line: 1, Field: "rules[0].when", Message: "does not compile"}}
		}
	}
	return nil
}

type testProblems []*interlockv1.PolicyProblem

func (p testProblems) Error() string                                { return p[0].GetMessage() }
func (p testProblems) PolicyProblems() []*interlockv1.PolicyProblem { return p }

func startServer(t testing.TB, dir string, iss *issuer, mod ...func(*Config)) *testServer {
	t.Helper()
	ts := &testServer{t: t, dir: dir, iss: iss}
	ts.start(mod...)
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start(mod ...func(*Config)) {
	t := ts.t
	t.Helper()
	ctx := context.Background()
	var err error
	if ts.db, err = store.Open(ctx, filepath.Join(ts.dir, "store")); err != nil {
		t.Fatal(err)
	}
	if ts.ca, err = pki.Load(filepath.Join(ts.dir, "pki"), "test"); err != nil {
		t.Fatal(err)
	}
	if ts.admin, err = auth.LoadOrCreateAdminToken(filepath.Join(ts.dir, "admin.token")); err != nil {
		t.Fatal(err)
	}
	o, err := auth.NewOIDC(ctx, auth.OIDCConfig{
		Issuer: testIssuer, Audience: testAudience, JWKSURL: ts.iss.jwksURL,
		Bindings: []auth.Binding{
			{Claim: "groups", Value: "admins", Role: auth.RoleAdmin},
			{Claim: "groups", Value: "approvers", Role: auth.RoleApprover},
			{Claim: "groups", Value: "auditors", Role: auth.RoleAuditor},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Store: ts.db, Authority: ts.ca, ServerNames: []string{"127.0.0.1"},
		Validate: acceptAll, OIDC: o, AdminToken: ts.admin,
		ExpireEvery: 50 * time.Millisecond,
	}
	for _, m := range mod {
		m(&cfg)
	}
	if ts.srv, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = lis.Addr().String()
	var sctx context.Context
	sctx, ts.cancel = context.WithCancel(ctx)
	ts.done = make(chan error, 1)
	go func() { ts.done <- ts.srv.Serve(sctx, lis) }()
}

// stop shuts the server down and closes the store; safe to call twice.
func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ts.cancel()
	if err := <-ts.done; err != nil {
		ts.t.Errorf("Serve: %v", err)
	}
	if err := ts.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		ts.t.Errorf("Close: %v", err)
	}
	ts.db.Close()
	ts.srv = nil
}

// restart stops the server and starts a new one on the same data.
func (ts *testServer) restart() {
	ts.stop()
	ts.start()
}

func (ts *testServer) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: ts.ca.ControlPool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
}

func (ts *testServer) dial(cfg *tls.Config, opts ...grpc.DialOption) *grpc.ClientConn {
	ts.t.Helper()
	opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	cc, err := grpc.NewClient(ts.addr, opts...)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { cc.Close() })
	return cc
}

// bearerCreds sends a bearer token with every call.
type bearerCreds string

func (b bearerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearerCreds) RequireTransportSecurity() bool { return true }

// person connects with a bearer token.
func (ts *testServer) person(token string) *grpc.ClientConn {
	return ts.dial(ts.tlsConfig(), grpc.WithPerRPCCredentials(bearerCreds(token)))
}

// anonymous connects without credentials.
func (ts *testServer) anonymous() *grpc.ClientConn { return ts.dial(ts.tlsConfig()) }

// enrolledNode is a node's identity after enrolment.
type enrolledNode struct {
	id   string
	cert tls.Certificate
}

func csrFor(t testing.TB, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "node"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (ts *testServer) bootstrapToken() string {
	ts.t.Helper()
	tok, err := NewBootstrapToken(context.Background(), ts.db, time.Hour, "test")
	if err != nil {
		ts.t.Fatal(err)
	}
	return tok
}

// enroll enrols a node called name with a fresh bootstrap token.
func (ts *testServer) enroll(name string) enrolledNode {
	t := ts.t
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	resp, err := interlockv1.NewNodeServiceClient(ts.anonymous()).Enroll(context.Background(), &interlockv1.EnrollRequest{
		NodeName: name, BootstrapToken: ts.bootstrapToken(), ClientCsr: csrFor(t, key), CaCsr: csrFor(t, caKey),
	})
	if err != nil {
		t.Fatalf("enroll %s: %v", name, err)
	}
	return enrolledNode{id: resp.GetNodeId(), cert: tls.Certificate{Certificate: [][]byte{resp.GetClientCert()}, PrivateKey: key}}
}

// node connects as an enrolled node (mTLS).
func (ts *testServer) node(n enrolledNode) *grpc.ClientConn {
	cfg := ts.tlsConfig()
	cfg.Certificates = []tls.Certificate{n.cert}
	return ts.dial(cfg)
}

func approvalReq(subject, fp string, minApprovals uint32, grantFor time.Duration) *interlockv1.ApprovalRequestRequest {
	sum := make([]byte, 32)
	copy(sum, fp)
	return &interlockv1.ApprovalRequestRequest{
		Requester:    &interlockv1.Identity{Issuer: testIssuer, Subject: subject, ObjectId: subject},
		Target:       "arm",
		Operation:    "Microsoft.Storage/storageAccounts/regenerateKey/action",
		Summary:      "POST /subscriptions/s/.../regenerateKey",
		Rule:         "key-rotation-needs-approval",
		Fingerprint:  sum,
		MinApprovals: minApprovals,
		GrantFor:     durationpb.New(grantFor),
		Timeout:      durationpb.New(time.Minute),
	}
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
