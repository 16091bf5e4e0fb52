// SPDX-License-Identifier: Apache-2.0

// Trusted issuers: the policy's entries merged per issuer, where each
// one's signing keys are (given, derived for Entra ID, or discovered), and
// the go-oidc verifier built on them.

package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// entraLogin is Entra ID's public-cloud authority, where both token
// versions' keys are published.
const entraLogin = "https://login.microsoftonline.com/"

// issuer is one trusted iss value with the audiences accepted from it.
type issuer struct {
	iss       string
	audiences []string
	jwksURL   string // empty until discovered

	mu       sync.Mutex            // serializes discovery
	verifier *oidc.IDTokenVerifier // guarded by mu; nil until the keys are known
	keys     *keySet               // guarded by mu; set with verifier
	tried    time.Time             // last discovery attempt; guarded by mu
}

// EntraJWKSURL returns where Entra ID publishes the signing keys of an
// issuer of the public cloud, v1.0 (https://sts.windows.net/{tid}/) or
// v2.0 (https://login.microsoftonline.com/{tid}/v2.0):
// https://login.microsoftonline.com/{tid}/discovery/v2.0/keys. It reports
// false for other issuers, sovereign clouds included.
func EntraJWKSURL(iss string) (string, bool) {
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "https" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false
	}
	seg := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	var tid string
	switch {
	case u.Host == "sts.windows.net" && len(seg) == 2 && seg[1] == "":
		tid = seg[0]
	case u.Host == "login.microsoftonline.com" && len(seg) == 2 && seg[1] == "v2.0":
		tid = seg[0]
	default:
		return "", false
	}
	if tid == "" || strings.Trim(tid, "0123456789abcdefABCDEF-") != "" {
		return "", false // Entra's issuers name the tenant by its GUID
	}
	return entraLogin + tid + "/discovery/v2.0/keys", true
}

// verifierFor returns is's go-oidc verifier and key set, discovering its JWKS URL
// from {iss}/.well-known/openid-configuration first if needed (after a
// failure, not again within failureBackoff).
func (v *Verifier) verifierFor(ctx context.Context, is *issuer) (*oidc.IDTokenVerifier, *keySet, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.verifier != nil {
		return is.verifier, is.keys, nil
	}
	if is.jwksURL == "" {
		now := v.now()
		if !is.tried.IsZero() && now.Sub(is.tried) < min(v.minRefresh, failureBackoff) {
			return nil, nil, fail(ErrKeysUnavailable, is.iss, nil, errors.New("discovery failed recently"))
		}
		is.tried = now
		u, err := v.discover(ctx, is.iss)
		if err != nil {
			return nil, nil, fail(ErrKeysUnavailable, is.iss, nil, err)
		}
		is.jwksURL = u
	}
	is.keys = v.keySet(is.jwksURL)
	is.verifier = oidc.NewVerifier(is.iss, is.keys, &oidc.Config{
		SkipClientIDCheck:    true, // audiences are checked by Verify, for a distinct error
		SkipExpiryCheck:      true, // likewise exp and nbf, with the configured skew
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256},
		Now:                  v.now,
	})
	return is.verifier, is.keys, nil
}

// discover reads iss's OpenID configuration (go-oidc checks that it names
// iss as its issuer) and returns its jwks_uri, which must be https.
func (v *Verifier) discover(ctx context.Context, iss string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, v.client), iss)
	if err != nil {
		return "", fmt.Errorf("discover %s: %w", iss, err)
	}
	var doc struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return "", fmt.Errorf("discover %s: %w", iss, err)
	}
	if u, err := url.Parse(doc.JWKSURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("discover %s: jwks_uri %q is not an https URL", iss, doc.JWKSURL)
	}
	return doc.JWKSURL, nil
}

// keySet returns the shared key set of url, made on first use.
func (v *Verifier) keySet(url string) *keySet {
	v.mu.Lock()
	defer v.mu.Unlock()
	ks := v.keySets[url]
	if ks == nil {
		ks = &keySet{url: url, client: v.client, now: v.now, minRefresh: v.minRefresh, maxAge: v.maxKeyAge}
		v.keySets[url] = ks
	}
	return ks
}

// accepts reports whether one of aud is an audience accepted from is.
func (is *issuer) accepts(aud []string) bool {
	for _, a := range aud {
		if slices.Contains(is.audiences, a) {
			return true
		}
	}
	return false
}
