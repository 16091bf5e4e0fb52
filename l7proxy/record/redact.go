// SPDX-License-Identifier: Apache-2.0

// Header redaction: credentials are replaced by a fixed placeholder before a
// header is recorded.

package record

import (
	"net/http"
	"slices"
	"strings"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Placeholder is the only value a redacted header carries.
const Placeholder = "[REDACTED]"

// credentialWords are the dash-separated words that make a header name a
// credential: Authorization, Proxy-Authorization, Cookie, Set-Cookie,
// X-Ms-Authorization-Auxiliary, X-Ms-Copy-Source-Authorization,
// X-Ms-Encryption-Key, Api-Key, Ocp-Apim-Subscription-Key, X-Csrf-Token, ...
// Whole words are compared, so X-Ms-Keyvault-Region is not one.
var credentialWords = []string{
	"authorization", "cookie", "token", "key", "secret", "signature",
	"sig", "credential", "credentials", "password", "passwd", "apikey",
}

// Redactor decides which headers are credentials and replaces their values.
// The zero value and a nil *Redactor redact the default set; NewRedactor
// adds names. A Redactor is immutable and safe for concurrent use.
type Redactor struct {
	extra map[string]struct{} // lowercase names; set once by NewRedactor
}

// NewRedactor returns a Redactor that also treats the given header names
// (any case) as credentials.
func NewRedactor(extra ...string) *Redactor {
	r := &Redactor{extra: make(map[string]struct{}, len(extra))}
	for _, n := range extra {
		r.extra[strings.ToLower(strings.TrimSpace(n))] = struct{}{}
	}
	return r
}

// IsCredential reports whether values of the header name must never be
// recorded.
func (r *Redactor) IsCredential(name string) bool {
	if r != nil && len(r.extra) > 0 {
		if _, ok := r.extra[strings.ToLower(name)]; ok {
			return true
		}
	}
	// This runs twice for every header of every recorded message: the
	// common names are looked up, the others checked word by word, in any
	// case, without lowering a copy of the name.
	if cred, ok := commonHeaders[name]; ok {
		return cred
	}
	return isCredentialName(name)
}

// commonHeaders says of the canonical names most requests and responses
// carry whether they are credentials (what the word check would say).
var commonHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection", "Content-Encoding",
		"Content-Length", "Content-Type", "Date", "Etag", "Expires", "Host", "Location", "Pragma", "Retry-After",
		"Server", "Strict-Transport-Security", "Traceparent", "User-Agent", "Vary", "X-Content-Type-Options",
		"X-Ms-Client-Request-Id", "X-Ms-Correlation-Request-Id", "X-Ms-Request-Id", "X-Ms-Routing-Request-Id",
		"X-Ms-Ratelimit-Remaining-Subscription-Reads", "X-Ms-Ratelimit-Remaining-Subscription-Writes",
		"X-Ms-Version", "Azure-Asyncoperation", "Authorization", "Cookie", "Set-Cookie", "Www-Authenticate",
	} {
		m[n] = isCredentialName(n)
	}
	return m
}()

// isCredentialName checks name word by word.
func isCredentialName(name string) bool {
	for len(name) > 0 {
		w, rest, _ := strings.Cut(name, "-")
		if isCredentialWord(w) {
			return true
		}
		name = rest
	}
	return false
}

// isCredentialWord reports whether w is one of credentialWords, in any
// case; only the words of w's length are compared.
func isCredentialWord(w string) bool {
	for _, c := range credentialWords {
		if len(c) == len(w) && strings.EqualFold(w, c) {
			return true
		}
	}
	return false
}

// Headers converts h for recording, sorted by name. A credential header
// keeps its name, gets the single value Placeholder and redacted: true,
// whatever and however many values it had.
//
// It allocates per call, not per header: the messages share one array,
// and their values another (each a full slice of it, so that appending to
// one cannot overwrite the next).
func (r *Redactor) Headers(h http.Header) []*interlockv1.Header {
	names := make([]string, 0, len(h))
	nv := 0
	for n, vs := range h {
		names = append(names, n)
		nv += max(len(vs), 1)
	}
	slices.Sort(names)
	msgs := make([]interlockv1.Header, len(names))
	vals := make([]string, 0, nv)
	out := make([]*interlockv1.Header, len(names))
	for i, n := range names {
		m := &msgs[i]
		m.Name = n
		start := len(vals)
		if r.IsCredential(n) {
			vals = append(vals, Placeholder)
			m.Redacted = true
		} else {
			vals = append(vals, h[n]...)
		}
		m.Values = vals[start:len(vals):len(vals)]
		out[i] = m
	}
	return out
}

// checkHeaders returns ErrUnredacted when a credential header in hs is not
// marked redacted or carries anything but Placeholder.
func (r *Redactor) checkHeaders(hs []*interlockv1.Header) error {
	for _, h := range hs {
		if !r.IsCredential(h.GetName()) {
			continue
		}
		if !h.GetRedacted() {
			return &headerError{name: h.GetName()}
		}
		for _, v := range h.GetValues() {
			if v != Placeholder {
				return &headerError{name: h.GetName()}
			}
		}
	}
	return nil
}

// headerError names the offending header (never its value).
type headerError struct{ name string }

func (e *headerError) Error() string { return ErrUnredacted.Error() + ": " + e.name }
func (e *headerError) Unwrap() error { return ErrUnredacted }
