// SPDX-License-Identifier: Apache-2.0

// Verifier: checks an agent's bearer token against the policy's trusted
// issuers and returns who it proves the caller is.

package identity

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/go-jose/go-jose/v4"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// Verifier defaults.
const (
	// DefaultSkew is the clock skew allowed on exp and nbf.
	DefaultSkew = time.Minute
	// DefaultMinRefresh is the shortest time between two JWKS fetches for
	// tokens that name an unknown key, and between discovery attempts.
	DefaultMinRefresh = time.Minute
	// DefaultMaxKeyAge is how long a JWKS is used before it is refetched.
	DefaultMaxKeyAge = 12 * time.Hour
	// DefaultCacheSize is how many verified tokens are remembered.
	DefaultCacheSize = 4096
	// DefaultCacheTTL is how long a verified token is remembered (never
	// past its exp).
	DefaultCacheTTL = 5 * time.Minute
)

// Options adjust a Verifier; the zero value takes every default.
type Options struct {
	// HTTPClient fetches JWKS and OpenID configurations; nil means a
	// client with the default transport and a timeout.
	HTTPClient *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Skew allowed on exp and nbf; zero means DefaultSkew, negative none.
	Skew time.Duration
	// MinRefresh and MaxKeyAge: see DefaultMinRefresh, DefaultMaxKeyAge.
	MinRefresh, MaxKeyAge time.Duration
	// CacheSize bounds the verified-token cache; zero means
	// DefaultCacheSize, negative disables the cache.
	CacheSize int
	// CacheTTL: see DefaultCacheTTL.
	CacheTTL time.Duration
}

// Verifier verifies bearer tokens against trusted issuers. It is
// immutable once made, safe for concurrent use, and holds no goroutines:
// drop it when the policy changes.
type Verifier struct {
	issuers    map[string]*issuer // by exact iss; read-only
	client     *http.Client
	now        func() time.Time
	skew       time.Duration
	minRefresh time.Duration
	maxKeyAge  time.Duration
	cache      *tokenCache // nil when disabled

	mu      sync.Mutex
	keySets map[string]*keySet // by JWKS URL; guarded by mu
}

// NewVerifier returns a Verifier that trusts issuers. Entries with the
// same issuer are merged: their audiences are all accepted. An issuer's
// keys come from its JWKS URL, else from Entra ID's key endpoint for
// Entra's public-cloud issuers (see EntraJWKSURL), else from the issuer's
// OpenID configuration, discovered on first use. Nothing is fetched here.
func NewVerifier(issuers []policy.Issuer, o Options) (*Verifier, error) {
	v := &Verifier{
		issuers:    map[string]*issuer{},
		client:     o.HTTPClient,
		now:        o.Now,
		skew:       o.Skew,
		minRefresh: o.MinRefresh,
		maxKeyAge:  o.MaxKeyAge,
		keySets:    map[string]*keySet{},
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: fetchTimeout}
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.skew == 0:
		v.skew = DefaultSkew
	case v.skew < 0:
		v.skew = 0
	}
	if v.minRefresh <= 0 {
		v.minRefresh = DefaultMinRefresh
	}
	if v.maxKeyAge <= 0 {
		v.maxKeyAge = DefaultMaxKeyAge
	}
	if o.CacheSize >= 0 {
		size, ttl := o.CacheSize, o.CacheTTL
		if size == 0 {
			size = DefaultCacheSize
		}
		if ttl <= 0 {
			ttl = DefaultCacheTTL
		}
		v.cache = newTokenCache(size, ttl)
	}
	for _, pi := range issuers {
		if pi.Issuer == "" || pi.Audience == "" {
			return nil, fmt.Errorf("identity: issuer %q: issuer and audience are required", pi.Issuer)
		}
		is := v.issuers[pi.Issuer]
		if is == nil {
			is = &issuer{iss: pi.Issuer}
			v.issuers[pi.Issuer] = is
		}
		is.audiences = append(is.audiences, pi.Audience)
		jwks := pi.JWKSURL
		if jwks == "" {
			jwks, _ = EntraJWKSURL(pi.Issuer)
		}
		if jwks != "" {
			if u, err := url.Parse(jwks); err != nil || u.Scheme != "https" || u.Host == "" {
				return nil, fmt.Errorf("identity: issuer %q: JWKS URL %q is not an https URL", pi.Issuer, jwks)
			}
			if is.jwksURL != "" && is.jwksURL != jwks {
				return nil, fmt.Errorf("identity: issuer %q: two JWKS URLs, %q and %q", pi.Issuer, is.jwksURL, jwks)
			}
			is.jwksURL = jwks
		}
	}
	return v, nil
}

// VerifyHeader verifies the token of an Authorization header value
// ("Bearer <token>", the scheme in any case). An empty header, or one of
// another scheme, is ErrMissing.
func (v *Verifier) VerifyHeader(ctx context.Context, authorization string) (*Identity, error) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, fail(ErrMissing, "", nil, nil)
	}
	return v.Verify(ctx, strings.TrimSpace(tok))
}

// Verify checks raw, a compact JWS: its issuer is trusted, its signature
// verifies with the issuer's keys, it is within exp and nbf (with the
// skew), and one of its audiences is accepted from its issuer. Errors are
// *TokenError, matching one of the Err* reasons. The Identity returned may
// be shared with other callers (it is cached): do not modify it.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Identity, error) {
	if raw == "" {
		return nil, fail(ErrMissing, "", nil, nil)
	}
	now := v.now()
	var key [sha256.Size]byte
	if v.cache != nil {
		// Hash the token in place: a copy to []byte would allocate a
		// token's size on every request. Sum256 neither keeps nor writes
		// its input.
		key = sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
		if id := v.cache.get(key, now); id != nil {
			if !now.Before(id.Expiry.Add(v.skew)) {
				return nil, v.expired(id.Issuer, id.Audience, id.Expiry)
			}
			return id, nil
		}
	}
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, fail(ErrMalformed, "", nil, err)
	}
	is := v.issuers[iss]
	if is == nil {
		return nil, fail(ErrUnknownIssuer, iss, nil, nil)
	}
	ov, ks, err := v.verifierFor(ctx, is)
	if err == nil {
		err = ks.ensure(ctx)
	}
	if err != nil {
		te, ok := errors.AsType[*TokenError](err)
		if !ok {
			te = fail(ErrKeysUnavailable, "", nil, err)
		}
		return nil, &TokenError{Reason: te.Reason, Issuer: iss, Err: te.Err}
	}
	// go-oidc checks the signature, the algorithm and iss; its errors do
	// not wrap their causes, and the keys are known to be there: so any
	// failure is the token's.
	tok, err := ov.Verify(ctx, raw)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fail(ErrKeysUnavailable, iss, nil, ctx.Err())
		}
		return nil, fail(ErrSignature, iss, nil, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fail(ErrMalformed, iss, nil, err)
	}
	id, err := newIdentity(claims, tok.Audience)
	if err != nil {
		return nil, fail(ErrMalformed, iss, tok.Audience, err)
	}
	if !now.Before(id.Expiry.Add(v.skew)) {
		return nil, v.expired(iss, tok.Audience, id.Expiry)
	}
	if !id.NotBefore.IsZero() && now.Add(v.skew).Before(id.NotBefore) {
		return nil, fail(ErrNotYetValid, iss, tok.Audience, nil)
	}
	if !is.accepts(tok.Audience) {
		return nil, fail(ErrAudience, iss, tok.Audience, nil)
	}
	if v.cache != nil {
		v.cache.put(key, id, now)
	}
	return id, nil
}

func (v *Verifier) expired(iss string, aud []string, exp time.Time) error {
	e := fail(ErrExpired, iss, aud, nil)
	e.Expiry = exp
	return e
}

// unverifiedIssuer returns the iss claim of a compact JWS signed with one
// of signingAlgs, before any check of the signature: only to choose the
// keys to check it with.
func unverifiedIssuer(raw string) (string, error) {
	jws, err := jose.ParseSigned(raw, signingAlgs)
	if err != nil {
		return "", err
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	if c.Iss == "" {
		return "", errors.New("no iss claim")
	}
	return c.Iss, nil
}
