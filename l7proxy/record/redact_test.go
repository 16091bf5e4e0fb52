// SPDX-License-Identifier: Apache-2.0

// Header redaction.

package record_test

import (
	"net/http"
	"testing"

	"github.com/interlockhq/interlock/l7proxy/record"
)

func TestRedactorIsCredential(t *testing.T) {
	r := record.NewRedactor("X-Custom-Thing")
	tests := []struct {
		name string
		want bool
	}{
		{"Authorization", true},
		{"authorization", true},
		{"Proxy-Authorization", true},
		{"Cookie", true},
		{"Set-Cookie", true},
		{"X-Ms-Authorization-Auxiliary", true},
		{"x-ms-copy-source-authorization", true},
		{"X-Ms-Encryption-Key", true},
		{"X-Ms-Token-Aad-Access-Token", true},
		{"Ocp-Apim-Subscription-Key", true},
		{"Api-Key", true},
		{"X-Csrf-Token", true},
		{"x-custom-thing", true}, // configured
		{"X-Ms-Keyvault-Region", false},
		{"X-Ms-Client-Request-Id", false},
		{"WWW-Authenticate", false}, // the Key Vault challenge: no secret
		{"Content-Type", false},
		{"Keep-Alive", false},
	}
	for _, tt := range tests {
		if got := r.IsCredential(tt.name); got != tt.want {
			t.Errorf("IsCredential(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	var def *record.Redactor // nil: the default set
	if def.IsCredential("X-Custom-Thing") || !def.IsCredential("Authorization") {
		t.Error("nil Redactor does not use the default set")
	}
}

func TestRedactorHeaders(t *testing.T) {
	h := http.Header{
		"Authorization":  {"Bearer eyJhbGciOiJSUzI1NiJ9.secret.sig"},
		"Cookie":         {"a=1", "b=2"},
		"Content-Type":   {"application/json"},
		"X-Ms-Client-Id": {"abc"},
	}
	got := (*record.Redactor)(nil).Headers(h)
	want := []struct {
		name     string
		values   []string
		redacted bool
	}{
		{"Authorization", []string{record.Placeholder}, true},
		{"Content-Type", []string{"application/json"}, false},
		{"Cookie", []string{record.Placeholder}, true},
		{"X-Ms-Client-Id", []string{"abc"}, false},
	}
	if len(got) != len(want) {
		t.Fatalf("%d headers, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Redacted != w.redacted || len(g.Values) != len(w.values) || g.Values[0] != w.values[0] {
			t.Errorf("header %d = %v, want %+v", i, g, w)
		}
	}
	// The record holds copies: the request's headers change on the way
	// upstream, and one recorded header's values do not spill into the
	// next's.
	h["Content-Type"][0] = "text/plain"
	got[1].Values = append(got[1].Values, "appended")
	if got[1].Values[0] != "application/json" || got[2].Values[0] != record.Placeholder {
		t.Errorf("recorded headers changed: %v, %v", got[1], got[2])
	}
}
