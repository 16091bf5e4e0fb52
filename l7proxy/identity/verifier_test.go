// SPDX-License-Identifier: Apache-2.0

// Tests of the Verifier against azurefake's real-shaped Entra tokens over
// HTTPS, and against an issuer of our own for discovery, key rotation and
// unavailable keys.

package identity

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/test/azurefake"
)

func TestVerifyAzurefake(t *testing.T) {
	srv := startFake(t, azurefake.Options{Clients: []azurefake.Client{{
		Roles: []string{"Reader"}, Groups: []string{"0f9c3e52-7d6a-4c11-a0a4-7b1c6f5b2d10"},
	}}})
	client := srv.Clients()[0]
	v, err := NewVerifier([]policy.Issuer{
		{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceARM},
		{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceKeyVault},
		{Issuer: srv.IssuerV2(), Audience: "api://interlock-test"},
	}, Options{HTTPClient: fakeClient(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(o azurefake.TokenOptions) string {
		tok, err := srv.MintToken(o)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	forged, err := srv.ForgeToken(azurefake.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"` + srv.IssuerV1() + `","aud":"https://management.core.windows.net/","exp":9999999999}`))
	tests := []struct {
		name    string
		token   string
		want    error
		code    string
		version string
	}{
		{name: "v1 ARM", token: mint(azurefake.TokenOptions{}), version: "1.0"},
		{name: "v1 Key Vault", token: mint(azurefake.TokenOptions{Resource: azurefake.ResourceKeyVault}), version: "1.0"},
		{name: "v2 own API", token: mint(azurefake.TokenOptions{Resource: "api://interlock-test"}), version: "2.0"},
		{name: "forged", token: forged, want: ErrSignature, code: "InvalidAuthenticationToken"},
		{name: "expired", token: mint(azurefake.TokenOptions{Lifetime: -10 * time.Minute}), want: ErrExpired, code: "ExpiredAuthenticationToken"},
		{name: "expired within skew", token: mint(azurefake.TokenOptions{Lifetime: -30 * time.Second}), version: "1.0"},
		{name: "not yet valid", token: mint(azurefake.TokenOptions{Claims: map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}}), want: ErrNotYetValid, code: "InvalidAuthenticationToken"},
		{name: "wrong audience", token: mint(azurefake.TokenOptions{Resource: azurefake.ResourceStorage}), want: ErrAudience, code: "InvalidAuthenticationTokenAudience"},
		{name: "audience without slash", token: mint(azurefake.TokenOptions{Claims: map[string]any{"aud": "https://management.core.windows.net"}}), want: ErrAudience, code: "InvalidAuthenticationTokenAudience"},
		{name: "v2 issuer, ARM audience", token: mint(azurefake.TokenOptions{Claims: map[string]any{"iss": srv.IssuerV2()}}), want: ErrAudience, code: "InvalidAuthenticationTokenAudience"},
		{name: "other tenant", token: mint(azurefake.TokenOptions{Claims: map[string]any{"iss": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"}}), want: ErrUnknownIssuer, code: "InvalidAuthenticationTokenTenant"},
		{name: "no exp", token: mint(azurefake.TokenOptions{Claims: map[string]any{"exp": nil}}), want: ErrMalformed, code: "AuthenticationFailed"},
		{name: "garbage", token: "not.a.token", want: ErrMalformed, code: "AuthenticationFailed"},
		{name: "alg none", token: header + "." + body + ".", want: ErrMalformed, code: "AuthenticationFailed"},
		{name: "empty", token: "", want: ErrMissing, code: "AuthenticationFailed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(t.Context(), tt.token)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				status, code, msg := ARMError(err, time.Now())
				if status != http.StatusUnauthorized || code != tt.code || msg == "" {
					t.Errorf("ARMError: %d %s %q, want 401 %s", status, code, msg, tt.code)
				}
				if tt.token != "" && strings.Contains(err.Error(), tt.token) {
					t.Error("the error holds the token")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantIss := srv.IssuerV1()
			if tt.version == "2.0" {
				wantIss = srv.IssuerV2()
			}
			if id.Issuer != wantIss || id.AppID != client.ID || id.ObjectID != client.ObjectID ||
				id.Subject != client.ObjectID || id.Tenant != srv.TenantID() || id.Version != tt.version {
				t.Errorf("got %+v", id.Identity)
			}
			if !slices.Equal(id.Roles, client.Roles) || !slices.Equal(id.Groups, client.Groups) {
				t.Errorf("roles %q groups %q, want %q %q", id.Roles, id.Groups, client.Roles, client.Groups)
			}
			if id.Claims["idtyp"] != "app" || id.Expiry.IsZero() || id.NotBefore.IsZero() {
				t.Errorf("claims %v, exp %v, nbf %v", id.Claims, id.Expiry, id.NotBefore)
			}
		})
	}
	if n := srv.Count("GET", "/discovery/v2.0/keys"); n != 1 {
		t.Errorf("JWKS fetched %d times, want once (forged tokens must not refetch)", n)
	}
}

func TestVerifyHeader(t *testing.T) {
	srv := startFake(t, azurefake.Options{})
	v, err := NewVerifier([]policy.Issuer{{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceARM}}, Options{HTTPClient: fakeClient(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.MintToken(azurefake.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header string
		want   error
	}{
		{"Bearer " + tok, nil},
		{"bearer  " + tok + " ", nil},
		{"Basic " + tok, ErrMissing},
		{"Bearer", ErrMissing},
		{"", ErrMissing},
	}
	for _, tt := range tests {
		_, err := v.VerifyHeader(t.Context(), tt.header)
		if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("%.20q: got %v, want %v", tt.header, err, tt.want)
		}
	}
}

// TestVerifyCache: a verified token is served from the cache (no second
// signature check can be observed, but expiry still is checked).
func TestVerifyCache(t *testing.T) {
	p := startIDP(t)
	key := p.addKey(t, "k1")
	ck := newClock()
	v, err := NewVerifier([]policy.Issuer{{Issuer: p.issuer, Audience: "api://interlock"}}, Options{HTTPClient: p.client, Now: ck.now})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, key, "k1", map[string]any{"exp": ck.now().Add(3 * time.Minute).Unix()})
	a, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("second verification did not come from the cache")
	}
	ck.add(5 * time.Minute) // past exp and the skew
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrExpired) {
		t.Errorf("after exp: got %v, want ErrExpired", err)
	}
}

// TestDiscovery: an issuer without a JWKS URL that is not Entra's has its
// keys found through its OpenID configuration, once.
func TestDiscovery(t *testing.T) {
	p := startIDP(t)
	key := p.addKey(t, "k1")
	v, err := NewVerifier([]policy.Issuer{{Issuer: p.issuer, Audience: "api://interlock"}}, Options{HTTPClient: p.client, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id, err := v.Verify(t.Context(), sign(t, key, "k1", nil))
		if err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
		if id.Subject != "agent-1" || id.AppID != "" || id.Version != "" {
			t.Errorf("got %+v", id.Identity)
		}
	}
	if d, j := p.discHits.Load(), p.jwksHits.Load(); d != 1 || j != 1 {
		t.Errorf("discovery fetched %d times, JWKS %d times; want once each", d, j)
	}
}

// TestRotation: a key published after startup is fetched when a token
// names it, at most once per MinRefresh; a withdrawn key stops verifying
// once the set is refetched.
func TestRotation(t *testing.T) {
	p := startIDP(t)
	k1 := p.addKey(t, "k1")
	ck := newClock()
	v, err := NewVerifier([]policy.Issuer{{Issuer: p.issuer, Audience: "api://interlock", JWKSURL: p.issuer + "/keys"}},
		Options{HTTPClient: p.client, Now: ck.now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := v.Verify(ctx, sign(t, k1, "k1", nil)); err != nil {
		t.Fatal(err)
	}
	if p.discHits.Load() != 0 {
		t.Error("discovery used although the JWKS URL was given")
	}
	k2 := p.addKey(t, "k2")
	tok2 := sign(t, k2, "k2", nil)
	if _, err := v.Verify(ctx, tok2); !errors.Is(err, ErrSignature) {
		t.Fatalf("new key right after a fetch: got %v, want ErrSignature (rate limited)", err)
	}
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times within MinRefresh, want 1", n)
	}
	ck.add(DefaultMinRefresh + time.Second)
	if _, err := v.Verify(ctx, tok2); err != nil {
		t.Fatalf("new key after MinRefresh: %v", err)
	}
	if n := p.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
	for range 5 { // unknown kids within MinRefresh: no fetch
		if _, err := v.Verify(ctx, sign(t, k2, "k-unknown", nil)); !errors.Is(err, ErrSignature) {
			t.Fatalf("unknown kid: got %v", err)
		}
	}
	if n := p.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times after unknown kids, want still 2", n)
	}
	p.removeKey("k1")
	if _, err := v.Verify(ctx, sign(t, k1, "k1", nil)); err != nil {
		t.Fatalf("withdrawn key before the set is stale: %v", err)
	}
	ck.add(DefaultMaxKeyAge)
	if _, err := v.Verify(ctx, sign(t, k1, "k1", map[string]any{"exp": ck.now().Add(time.Hour).Unix()})); !errors.Is(err, ErrSignature) {
		t.Fatalf("withdrawn key after MaxKeyAge: got %v, want ErrSignature", err)
	}
}

// TestKeysUnavailable: an issuer whose keys cannot be fetched gives
// ErrKeysUnavailable (503), retried no more than every failureBackoff,
// and recovers.
func TestKeysUnavailable(t *testing.T) {
	p := startIDP(t)
	key := p.addKey(t, "k1")
	p.failJWKS.Store(true)
	ck := newClock()
	v, err := NewVerifier([]policy.Issuer{{Issuer: p.issuer, Audience: "api://interlock", JWKSURL: p.issuer + "/keys"}},
		Options{HTTPClient: p.client, Now: ck.now})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, key, "k1", nil)
	for range 3 {
		_, err = v.Verify(t.Context(), tok)
		if !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("got %v, want ErrKeysUnavailable", err)
		}
	}
	if status, code, _ := ARMError(err, time.Now()); status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
		t.Errorf("ARMError: %d %s", status, code)
	}
	if n := p.jwksHits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times within the failure backoff, want 1", n)
	}
	p.failJWKS.Store(false)
	ck.add(failureBackoff)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("after the backoff: %v", err)
	}

	p.noDiscDoc.Store(true)
	v2, err := NewVerifier([]policy.Issuer{{Issuer: p.issuer, Audience: "api://interlock"}}, Options{HTTPClient: p.client, Now: ck.now})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := v2.Verify(t.Context(), tok); !errors.Is(err, ErrKeysUnavailable) {
			t.Errorf("no discovery document: got %v, want ErrKeysUnavailable", err)
		}
	}
	if n := p.discHits.Load(); n != 1 {
		t.Errorf("discovery tried %d times within the failure backoff, want 1", n)
	}
}

func TestNewVerifierRejects(t *testing.T) {
	tests := []struct {
		name    string
		issuers []policy.Issuer
	}{
		{"no audience", []policy.Issuer{{Issuer: "https://idp.test"}}},
		{"http jwks", []policy.Issuer{{Issuer: "https://idp.test", Audience: "a", JWKSURL: "http://idp.test/keys"}}},
		{"two jwks", []policy.Issuer{
			{Issuer: "https://idp.test", Audience: "a", JWKSURL: "https://idp.test/keys"},
			{Issuer: "https://idp.test", Audience: "b", JWKSURL: "https://idp.test/other"},
		}},
	}
	for _, tt := range tests {
		if _, err := NewVerifier(tt.issuers, Options{}); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestEntraJWKSURL(t *testing.T) {
	const tid = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
	keys := "https://login.microsoftonline.com/" + tid + "/discovery/v2.0/keys"
	tests := []struct {
		iss  string
		want string
	}{
		{"https://sts.windows.net/" + tid + "/", keys},
		{"https://login.microsoftonline.com/" + tid + "/v2.0", keys},
		{"https://sts.windows.net/" + tid, ""},
		{"https://login.microsoftonline.com/" + tid + "/v2.0/", ""},
		{"https://login.microsoftonline.com/common/v2.0", ""},
		{"http://sts.windows.net/" + tid + "/", ""},
		{"https://sts.windows.net/../evil/", ""},
		{"https://login.microsoftonline.us/" + tid + "/v2.0", ""},
		{"https://accounts.google.com", ""},
	}
	for _, tt := range tests {
		got, ok := EntraJWKSURL(tt.iss)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: got %q %v, want %q", tt.iss, got, ok, tt.want)
		}
	}
}

// TestVerifyConcurrentFirstUse: callers that arrive while the first key
// fetch is in flight wait for it instead of failing (found by the HTTPS
// benchmark: 16 connections at once on a fresh verifier).
func TestVerifyConcurrentFirstUse(t *testing.T) {
	srv := startFake(t, azurefake.Options{})
	tok, err := srv.MintToken(azurefake.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		v, err := NewVerifier([]policy.Issuer{{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceARM}}, Options{HTTPClient: fakeClient(t, srv)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				if _, err := v.Verify(t.Context(), tok); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: concurrent first Verify: %v", round, err)
		}
	}
}
