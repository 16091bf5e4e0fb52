// SPDX-License-Identifier: Apache-2.0

package azurefake

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestKeyVaultChallenge(t *testing.T) {
	srv := startTest(t, Options{Vaults: []string{"kv1"}})
	c := newClient(t, srv)
	want := fmt.Sprintf(`Bearer authorization="https://login.microsoftonline.com/%s", resource="https://vault.azure.net"`, srv.TenantID())
	forged, err := srv.ForgeToken(TokenOptions{Resource: ResourceKeyVault})
	if err != nil {
		t.Fatal(err)
	}
	u := "https://kv1.vault.azure.net/secrets/x/?api-version=2026-04-01"
	tests := []struct {
		name, token string
		status      int
		code        string
	}{
		{"no token", "", 401, "Unauthorized"},
		{"arm token", mint(t, srv, TokenOptions{}), 401, "Unauthorized"},
		{"expired", mint(t, srv, TokenOptions{Resource: ResourceKeyVault, Lifetime: -time.Minute}), 401, "Unauthorized"},
		{"forged", forged, 401, "Unauthorized"},
		{"valid", mint(t, srv, TokenOptions{Resource: ResourceKeyVault}), 404, "SecretNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do("GET", u, tt.token, nil)
			if r.status != tt.status || r.armErrorCode() != tt.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.status, r.armErrorCode(), tt.status, tt.code, r.raw)
			}
			if got := r.header.Get("WWW-Authenticate"); tt.status == 401 && got != want {
				t.Errorf("WWW-Authenticate\n got %s\nwant %s", got, want)
			}
		})
	}
	if r := c.do("GET", "https://kv1.vault.azure.net/secrets", mint(t, srv, TokenOptions{Resource: ResourceKeyVault}), nil); r.status != 400 || r.armErrorCode() != "BadParameter" {
		t.Errorf("missing api-version = %d %s", r.status, r.raw)
	}
	if r := c.do("GET", "https://other.vault.azure.net/secrets?api-version=2026-04-01", "", nil); r.status != 421 {
		t.Errorf("unknown vault = %d", r.status)
	}
}

func TestKeyVaultSecrets(t *testing.T) {
	srv := startTest(t, Options{Vaults: []string{"kv1"}, Secrets: []Secret{{Vault: "kv1", Name: "seeded", Value: "v0"}}})
	c := newClient(t, srv)
	tok := mint(t, srv, TokenOptions{Resource: ResourceKeyVault})
	base := "https://kv1.vault.azure.net"
	const q = "?api-version=2026-04-01"

	r := c.do("GET", base+"/secrets/seeded/"+q, tok, nil)
	if r.status != 200 || r.body["value"] != "v0" || !strings.HasPrefix(r.body["id"].(string), base+"/secrets/seeded/") {
		t.Fatalf("get seeded = %d %s", r.status, r.raw)
	}
	r1 := c.do("PUT", base+"/secrets/db-password"+q, tok, map[string]any{"value": "one"})
	r2 := c.do("PUT", base+"/secrets/db-password"+q, tok, map[string]any{"value": "two"})
	if r1.status != 200 || r2.status != 200 || r1.body["id"] == r2.body["id"] {
		t.Fatalf("set = %d %s, %d %s", r1.status, r1.raw, r2.status, r2.raw)
	}
	attrs, _ := r2.body["attributes"].(map[string]any)
	if attrs["enabled"] != true || attrs["created"] == nil || attrs["recoveryLevel"] != "Recoverable+Purgeable" {
		t.Errorf("attributes %v", attrs)
	}
	if r := c.do("GET", base+"/secrets/db-password/"+q, tok, nil); r.body["value"] != "two" {
		t.Errorf("latest = %s", r.raw)
	}
	v1 := r1.body["id"].(string)
	v1 = v1[strings.LastIndex(v1, "/")+1:]
	if r := c.do("GET", base+"/secrets/db-password/"+v1+q, tok, nil); r.body["value"] != "one" {
		t.Errorf("version 1 = %s", r.raw)
	}
	if r := c.do("GET", base+"/secrets/db-password/versions"+q, tok, nil); len(r.body["value"].([]any)) != 2 {
		t.Errorf("versions = %s", r.raw)
	}
	if r := c.do("PUT", base+"/secrets/bad_name"+q, tok, map[string]any{"value": "x"}); r.status != 400 {
		t.Errorf("bad name = %d", r.status)
	}

	for i := range 4 {
		c.do("PUT", fmt.Sprintf("%s/secrets/s%d%s", base, i, q), tok, map[string]any{"value": "x"})
	}
	// Paging: maxresults=2 over 6 secrets, nextLink on the vault's host
	// with :443 as Key Vault writes it.
	next := base + "/secrets" + q + "&maxresults=2"
	var names []string
	for next != "" {
		r := c.do("GET", next, tok, nil)
		if r.status != 200 {
			t.Fatalf("list %s = %d %s", next, r.status, r.raw)
		}
		for _, v := range r.body["value"].([]any) {
			id := v.(map[string]any)["id"].(string)
			names = append(names, id[strings.LastIndex(id, "/")+1:])
			if _, ok := v.(map[string]any)["value"]; ok {
				t.Errorf("list shows a value: %v", v)
			}
		}
		if _, ok := r.body["nextLink"]; !ok {
			t.Fatalf("no nextLink key: %s", r.raw)
		}
		next, _ = r.body["nextLink"].(string)
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Host != "kv1.vault.azure.net:443" || u.Query().Get("maxresults") != "2" {
				t.Fatalf("nextLink %q", next)
			}
		}
	}
	if got := strings.Join(names, ","); got != "db-password,s0,s1,s2,s3,seeded" {
		t.Errorf("listed %s", got)
	}
}
