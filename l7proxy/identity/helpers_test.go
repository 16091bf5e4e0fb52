// SPDX-License-Identifier: Apache-2.0

// Test helpers: azurefake on 127.0.0.1:0 and an HTTP client that reaches
// it for every host name; a small OIDC issuer of our own (discovery and a
// JWKS whose keys a test rotates) for what azurefake does not do.

package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/testca"
)

// startFake starts azurefake on 127.0.0.1:0, closed when t ends.
func startFake(t *testing.T, opts azurefake.Options) *azurefake.Server {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	srv, err := azurefake.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// dialing returns an HTTP client that sends every request, whatever its
// host, to addr over TLS trusting only pool; it never uses a proxy.
func dialing(t testing.TB, addr string, pool *tls.Config) *http.Client {
	t.Helper()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
		TLSClientConfig:   pool,
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func fakeClient(t testing.TB, srv *azurefake.Server) *http.Client {
	return dialing(t, srv.Addr().String(), &tls.Config{RootCAs: srv.CA().Pool()})
}

// idp is an OIDC issuer at https://idp.test with its discovery document
// and a JWKS at https://idp.test/keys whose keys a test can change.
type idp struct {
	client    *http.Client
	issuer    string
	mu        sync.Mutex
	keys      map[string]*rsa.PrivateKey // published, by kid; guarded by mu
	jwksHits  atomic.Int32
	discHits  atomic.Int32
	failJWKS  atomic.Bool
	noDiscDoc atomic.Bool
}

const idpIssuer = "https://idp.test"

func startIDP(t *testing.T) *idp {
	t.Helper()
	ca, err := testca.New("identity test idp")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("idp.test")
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{issuer: idpIssuer, keys: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discHits.Add(1)
		if p.noDiscDoc.Load() {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.issuer, "jwks_uri": p.issuer + "/keys"})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		if p.failJWKS.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		p.mu.Lock()
		var set jose.JSONWebKeySet
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.client = dialing(t, srv.Listener.Addr().String(), &tls.Config{RootCAs: ca.Pool()})
	return p
}

// addKey publishes a new RSA key and returns its kid.
func (p *idp) addKey(t *testing.T, kid string) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys[kid] = k
	p.mu.Unlock()
	return k
}

func (p *idp) removeKey(kid string) {
	p.mu.Lock()
	delete(p.keys, kid)
	p.mu.Unlock()
}

// sign makes an RS256 token with kid over claims; iss, aud and a one-hour
// exp are added unless claims has them.
func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": idpIssuer, "aud": "api://interlock", "sub": "agent-1", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
