// SPDX-License-Identifier: Apache-2.0

// keySet: an issuer's JWKS, fetched on first use and cached, refetched
// when stale or when a token names a key it lacks, at a bounded rate.

package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Limits of a JWKS fetch.
const (
	fetchTimeout = 10 * time.Second
	maxJWKSSize  = 1 << 20
	// failureBackoff is the shortest time between two attempts while an
	// issuer has no keys (or no discovered configuration) at all: a
	// failing issuer must not cost every request a fetch.
	failureBackoff = 5 * time.Second
)

// signingAlgs are the algorithms tokens may be signed with: Entra signs
// with RS256; ES256 is there for other OIDC issuers. A key verifies only
// the algorithm of its own type.
var signingAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// keySet implements oidc.KeySet over a JWKS URL. It replaces go-oidc's
// RemoteKeySet, which refetches the JWKS for every token whose signature
// does not verify: every forged token would cost a round trip to the
// issuer. Here a token with a known kid is checked against that key only,
// and an unknown kid causes a refetch at most once per minRefresh.
type keySet struct {
	url        string
	client     *http.Client
	now        func() time.Time
	minRefresh time.Duration // between refetches for unknown kids
	maxAge     time.Duration // after which the keys are refetched

	mu       sync.Mutex
	keys     map[string]jose.JSONWebKey // by kid; guarded by mu
	fetched  time.Time                  // of keys; guarded by mu
	tried    time.Time                  // last fetch attempt; guarded by mu
	inflight *fetch                     // guarded by mu
}

// fetch is one JWKS request that concurrent callers share.
type fetch struct {
	done chan struct{}
	err  error
}

// VerifySignature verifies raw's signature with the key its kid names
// (every key when it names none) and returns the payload.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, signingAlgs)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := k.lookup(ctx, kid)
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	return nil, errors.New("signature does not verify")
}

// ensure fetches the set if it has never been fetched, and fails with
// ErrKeysUnavailable if there are no keys.
func (k *keySet) ensure(ctx context.Context) error {
	k.mu.Lock()
	have := k.keys != nil
	k.mu.Unlock()
	if have {
		return nil
	}
	_, err := k.lookup(ctx, "")
	var te *TokenError
	if err != nil && !errors.As(err, &te) {
		return fail(ErrKeysUnavailable, "", nil, err)
	}
	return err
}

// lookup returns the key named kid, or every key when kid is empty,
// fetching the set when it is missing or stale, or when kid is unknown
// and the last attempt is older than minRefresh.
func (k *keySet) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	now := k.now()
	have := k.keys != nil
	_, known := k.keys[kid]
	stale := have && now.Sub(k.fetched) >= k.maxAge
	refetch := !have || stale || (kid != "" && !known)
	switch {
	case refetch && have && now.Sub(k.tried) < k.minRefresh:
		refetch = false // rate limit: use what we have
	case !have && k.inflight == nil && !k.tried.IsZero() && now.Sub(k.tried) < min(k.minRefresh, failureBackoff):
		refetch = false // the last attempt failed just now (one in flight is joined)
	}
	var f *fetch
	leader := false
	if refetch {
		if f = k.inflight; f == nil {
			f = &fetch{done: make(chan struct{})}
			k.inflight = f
			k.tried = now
			leader = true
		}
	}
	k.mu.Unlock()
	switch {
	case leader:
		k.run(ctx, f)
	case f != nil:
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		err := errors.New("no keys")
		if f != nil && f.err != nil {
			err = f.err
		}
		return nil, fail(ErrKeysUnavailable, "", nil, err)
	}
	if kid == "" {
		out := make([]jose.JSONWebKey, 0, len(k.keys))
		for _, key := range k.keys {
			out = append(out, key)
		}
		return out, nil
	}
	key, ok := k.keys[kid]
	if !ok {
		return nil, fmt.Errorf("no key %q in %s", kid, k.url)
	}
	return []jose.JSONWebKey{key}, nil
}

// run fetches the set, keeps it on success (on failure the old keys stay)
// and releases f's waiters. It ignores ctx's cancellation, which must not
// fail the other waiters, and ends within fetchTimeout.
func (k *keySet) run(ctx context.Context, f *fetch) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	keys, err := k.get(ctx)
	k.mu.Lock()
	if err == nil {
		k.keys, k.fetched = keys, k.now()
	}
	f.err = err
	k.inflight = nil
	k.mu.Unlock()
	close(f.done)
}

// get downloads and parses the JWKS. Keys that are not public signing
// keys of a type go-jose knows are skipped, as RFC 7517 5 asks.
func (k *keySet) get(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: %s: %s", k.url, resp.Status)
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("jwks: %s: larger than %d bytes", k.url, maxJWKSSize)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks: %s: %w", k.url, err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil || !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys[key.KeyID] = key
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks: %s: no usable keys", k.url)
	}
	return keys, nil
}
