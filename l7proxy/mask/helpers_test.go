// SPDX-License-Identifier: Apache-2.0

// Test helpers: fake secrets made at run time (so no secret-shaped literal
// sits in the repository), and maskers.

package mask

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// fakeStorageKey returns an 88-character base64 account key derived from
// seed.
func fakeStorageKey(seed string) string {
	sum := sha512.Sum512([]byte(seed))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// fakeSig returns a URL-encoded SAS signature.
func fakeSig(seed string) string {
	sum := sha512.Sum512_256([]byte(seed))
	return strings.ReplaceAll(base64.StdEncoding.EncodeToString(sum[:]), "=", "%3D")
}

// fakeEntraSecret returns a 40-character client secret of the current
// format.
func fakeEntraSecret(seed string) string {
	sum := sha512.Sum512([]byte(seed))
	body := base64.RawURLEncoding.EncodeToString(sum[:])[:34]
	return "xY" + "z8" + "Q~" + strings.NewReplacer("-", ".", "_", "~").Replace(body)
}

// fakeJWT returns a compact JWS with the given header and payload JSON.
func fakeJWT(header, payload string) string {
	enc := base64.RawURLEncoding
	sig := sha512.Sum512_256([]byte(header + payload))
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig[:])
}

// defaultJWT is a token shaped like an Entra ID v1 access token.
func defaultJWT() string {
	return fakeJWT(`{"typ":"JWT","alg":"RS256","x5t":"abc","kid":"abc"}`,
		`{"aud":"https://management.core.windows.net/","iss":"https://sts.windows.net/00000000-0000-0000-0000-000000000000/","appid":"x","oid":"y","ver":"1.0"}`)
}

// fakePEM returns a private key PEM block with a fake body, lines joined
// by nl.
func fakePEM(label, nl string) string {
	sum := sha512.Sum512([]byte(label))
	body := base64.StdEncoding.EncodeToString(bytes.Repeat(sum[:], 8))
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----" + nl)
	for len(body) > 64 {
		b.WriteString(body[:64] + nl)
		body = body[64:]
	}
	b.WriteString(body + nl + "-----END " + label + "-----")
	return b.String()
}

// newMasker builds a masker from paths ("" entries skipped) and detectors,
// failing the test on error.
func newMasker(t testing.TB, paths []string, detectors []string) *Masker {
	t.Helper()
	var masks []*policy.MaskRule
	for _, p := range paths {
		jp, err := policy.ParseJSONPath(p)
		if err != nil {
			t.Fatalf("parse %q: %v", p, err)
		}
		masks = append(masks, &policy.MaskRule{JSONPath: jp, Rule: "rule-" + p})
	}
	m, err := New(masks, detectors, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// maskText runs Text over s with the given detectors, and checks that
// AppendText masks and counts the same.
func maskText(t testing.TB, s string, detectors ...string) (string, Result) {
	t.Helper()
	m := newMasker(t, nil, detectors)
	var out bytes.Buffer
	res, err := m.Text(context.Background(), &out, strings.NewReader(s))
	if err != nil {
		t.Fatalf("Text: %v", err)
	}
	counts := make([]uint32, len(m.Attributions()))
	dst, n, err := m.AppendText([]byte("prefix:"), []byte(s), counts)
	got := string(dst[len("prefix:"):])
	if n == 0 {
		got = s
	}
	if err != nil || got != out.String() {
		t.Errorf("AppendText(%q) = %q, %v; Text gave %q", s, got, err, out.String())
	}
	if r := m.result(counts, 0, 0); !slices.Equal(r.Applied, res.Applied) {
		t.Errorf("AppendText(%q) counted %+v; Text %+v", s, r.Applied, res.Applied)
	}
	return out.String(), res
}
