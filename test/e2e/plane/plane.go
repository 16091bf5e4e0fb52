// SPDX-License-Identifier: Apache-2.0

// Plane: start, stop and restart a control plane on one data directory.

package plane

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/interlockhq/interlock/control"
	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/pki"
	"github.com/interlockhq/interlock/control/store"
	"github.com/interlockhq/interlock/l7proxy/policy"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// The test OIDC issuer's iss and aud.
const (
	Issuer   = "https://login.example.test/tenant/v2.0"
	Audience = "api://interlock-control"
)

// Group names that Start binds to roles.
const (
	GroupAdmins    = "admins"
	GroupApprovers = "approvers"
	GroupAuditors  = "auditors"
)

// Plane is a control plane under test.
type Plane struct {
	t   testing.TB
	Dir string
	// Addr is host:port, stable across restarts.
	Addr string
	// CAFile is the control CA (PEM) clients trust; CAPEM its contents.
	CAFile string
	CAPEM  []byte
	// AdminToken is the local admin credential.
	AdminToken string
	// Mod changes the Config before each start (e.g. ExpireEvery).
	Mod func(*control.Config)

	key  *rsa.PrivateKey
	jwks string

	srv    *control.Server
	db     *store.DB
	cancel context.CancelFunc
	done   chan error
}

// Start starts a control plane with its data in a new temp dir.
func Start(t testing.TB, mod func(*control.Config)) *Plane {
	t.Helper()
	p := &Plane{t: t, Dir: t.TempDir(), Addr: "127.0.0.1:0", Mod: mod}
	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
		"n": base64.RawURLEncoding.EncodeToString(p.key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	t.Cleanup(keys.Close)
	p.jwks = keys.URL
	p.start()
	t.Cleanup(p.Stop)
	return p
}

func (p *Plane) start() {
	t := p.t
	t.Helper()
	ctx := context.Background()
	var err error
	if p.db, err = store.Open(ctx, filepath.Join(p.Dir, "store")); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.Load(filepath.Join(p.Dir, "pki"), "test")
	if err != nil {
		t.Fatal(err)
	}
	p.CAFile = ca.ControlCAPath()
	p.CAPEM = ca.ControlCAPEM()
	if p.AdminToken, err = auth.LoadOrCreateAdminToken(filepath.Join(p.Dir, "admin.token")); err != nil {
		t.Fatal(err)
	}
	o, err := auth.NewOIDC(ctx, auth.OIDCConfig{
		Issuer: Issuer, Audience: Audience, JWKSURL: p.jwks,
		Bindings: []auth.Binding{
			{Claim: "groups", Value: GroupAdmins, Role: auth.RoleAdmin},
			{Claim: "groups", Value: GroupApprovers, Role: auth.RoleApprover},
			{Claim: "groups", Value: GroupAuditors, Role: auth.RoleAuditor},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := control.Config{
		Store: p.db, Authority: ca, ServerNames: []string{"127.0.0.1"},
		Validate: Validate, OIDC: o, AdminToken: p.AdminToken,
		ExpireEvery: 50 * time.Millisecond,
	}
	if p.Mod != nil {
		p.Mod(&cfg)
	}
	if p.srv, err = control.New(cfg); err != nil {
		t.Fatal(err)
	}
	var lis net.Listener
	for range 100 { // a just-closed port may linger briefly
		if lis, err = net.Listen("tcp", p.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen %s: %v", p.Addr, err)
	}
	p.Addr = lis.Addr().String()
	var sctx context.Context
	sctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan error, 1)
	srv := p.srv
	go func() { p.done <- srv.Serve(sctx, lis) }()
}

// Running reports whether the control plane is up.
func (p *Plane) Running() bool { return p.srv != nil }

// Stop stops the control plane and closes its store; safe to call twice.
func (p *Plane) Stop() {
	if p.srv == nil {
		return
	}
	p.cancel()
	if err := <-p.done; err != nil {
		p.t.Errorf("control plane Serve: %v", err)
	}
	if err := p.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		p.t.Errorf("control plane Close: %v", err)
	}
	if err := p.db.Close(); err != nil {
		p.t.Errorf("close store: %v", err)
	}
	p.srv, p.db = nil, nil
}

// Restart stops the control plane (if it runs) and starts it again on the
// same data and address.
func (p *Plane) Restart() {
	p.t.Helper()
	p.Stop()
	p.start()
}

// Resume starts a stopped control plane again.
func (p *Plane) Resume() {
	p.t.Helper()
	if p.srv == nil {
		p.start()
	}
}

// BootstrapToken makes a one-time node bootstrap token.
func (p *Plane) BootstrapToken() string {
	p.t.Helper()
	if p.db == nil {
		p.t.Fatal("BootstrapToken: the control plane is stopped")
	}
	tok, err := control.NewBootstrapToken(context.Background(), p.db, time.Hour, "test")
	if err != nil {
		p.t.Fatal(err)
	}
	return tok
}

// Token mints a person's bearer token, valid for an hour.
func (p *Plane) Token(sub string, groups ...string) string {
	p.t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": Issuer, "aud": Audience, "sub": sub, "oid": "oid-" + sub,
		"preferred_username": sub + "@example.test", "groups": groups,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// TokenFile writes a token to a 0600 file for the CLI's --token-file.
func (p *Plane) TokenFile(name, token string) string {
	p.t.Helper()
	path := filepath.Join(p.Dir, name+".token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// Validate is the policy engine's loader, as `interlock control` checks
// pushes (the problems travel as the error's text).
func Validate(docs []*interlockv1.PolicyDocument) error {
	in := make([]policy.Document, len(docs))
	for i, d := range docs {
		in[i] = policy.Document{Name: d.GetName(), YAML: d.GetYaml()}
	}
	_, err := policy.Load(in, policy.Options{})
	return err
}
