// SPDX-License-Identifier: Apache-2.0

package azurefake

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestMetadata(t *testing.T) {
	srv := startTest(t, Options{})
	c := newClient(t, srv)
	tid := srv.TenantID()

	r := c.do("GET", loginURL+"/common/discovery/instance?api-version=1.1&authorization_endpoint="+
		url.QueryEscape(loginURL+"/"+tid+"/oauth2/v2.0/authorize"), "", nil)
	if r.status != 200 || r.body["tenant_discovery_endpoint"] != loginURL+"/"+tid+"/v2.0/.well-known/openid-configuration" {
		t.Errorf("instance discovery = %d %s", r.status, r.raw)
	}

	tests := []struct {
		path, issuer, tokenEndpoint, jwks string
	}{
		{"/" + tid + "/v2.0/.well-known/openid-configuration", srv.IssuerV2(), loginURL + "/" + tid + "/oauth2/v2.0/token", srv.JWKSURL()},
		{"/" + tid + "/.well-known/openid-configuration", srv.IssuerV1(), loginURL + "/" + tid + "/oauth2/token", loginURL + "/common/discovery/keys"},
		{"/common/v2.0/.well-known/openid-configuration", loginURL + "/{tenantid}/v2.0", loginURL + "/common/oauth2/v2.0/token", loginURL + "/common/discovery/v2.0/keys"},
	}
	for _, tt := range tests {
		r := c.do("GET", loginURL+tt.path, "", nil)
		if r.status != 200 {
			t.Errorf("GET %s = %d", tt.path, r.status)
			continue
		}
		for k, want := range map[string]string{"issuer": tt.issuer, "token_endpoint": tt.tokenEndpoint, "jwks_uri": tt.jwks} {
			if got := r.body[k]; got != want {
				t.Errorf("GET %s: %s = %v, want %s", tt.path, k, got, want)
			}
		}
	}

	if r := c.do("GET", loginURL+"/not-a-tenant/v2.0/.well-known/openid-configuration", "", nil); r.status != 400 || r.body["error"] != "invalid_tenant" {
		t.Errorf("unknown tenant = %d %s", r.status, r.raw)
	}

	// A minted token verifies against the published keys: kid = x5t =
	// SHA-1 thumbprint of x5c[0].
	tok := mint(t, srv, TokenOptions{})
	for _, path := range []string{"/" + tid + "/discovery/v2.0/keys", "/" + tid + "/discovery/keys", "/common/discovery/keys"} {
		r := c.do("GET", loginURL+path, "", nil)
		keys, _ := r.body["keys"].([]any)
		if r.status != 200 || len(keys) != 2 {
			t.Fatalf("GET %s = %d, %d keys", path, r.status, len(keys))
		}
		var set jwtKeySet
		for _, k := range keys {
			m := k.(map[string]any)
			der, err := base64.StdEncoding.DecodeString(m["x5c"].([]any)[0].(string))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha1.Sum(der)
			if kid := base64.RawURLEncoding.EncodeToString(sum[:]); m["kid"] != kid || m["x5t"] != kid {
				t.Errorf("kid %v, x5t %v, thumbprint %s", m["kid"], m["x5t"], kid)
			}
			if m["kty"] != "RSA" || m["use"] != "sig" || m["e"] != "AQAB" || m["n"] == "" {
				t.Errorf("key %v", m)
			}
			set.add(t, m)
		}
		if _, err := jwt.Parse(tok, set.keyfunc, jwt.WithValidMethods([]string{"RS256"})); err != nil {
			t.Errorf("token does not verify against %s: %v", path, err)
		}
	}
}

func TestTokenEndpoint(t *testing.T) {
	const subject = "system:serviceaccount:agents:agent"
	srv := startTest(t, Options{Clients: []Client{
		{Secret: "s3cret", Roles: []string{"Reader"}},
		{Federated: []FederatedCredential{{Subject: subject}}},
	}})
	c := newClient(t, srv)
	sec, fed := srv.Clients()[0], srv.Clients()[1]
	tokenURL := loginURL + "/" + srv.TenantID() + "/oauth2/v2.0/token"
	const armScope = "https://management.core.windows.net//.default openid offline_access profile"
	const cae = `{"access_token":{"xms_cc":{"values":["CP1"]}}}`

	assertion := func(o AssertionOptions) string {
		tok, err := srv.FederatedAssertion(o)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	secretForm := func(id, secret, scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {scope}, "claims": {cae}}
	}
	assertionForm := func(tok string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {fed.ID}, "client_assertion": {tok},
			"client_assertion_type": {assertionType}, "client_info": {"1"}, "scope": {armScope}}
	}

	tests := []struct {
		name     string
		url      string
		form     url.Values
		status   int
		err      string
		aadsts   string
		aud, ver string
		acr      string
	}{
		{"secret", tokenURL, secretForm(sec.ID, "s3cret", armScope), 200, "", "", ResourceARM, "1.0", "1"},
		{"secret key vault", tokenURL, secretForm(sec.ID, "s3cret", "https://vault.azure.net/.default openid offline_access profile"), 200, "", "", ResourceKeyVault, "1.0", "1"},
		{"secret own api", tokenURL, secretForm(sec.ID, "s3cret", "api://interlock/.default"), 200, "", "", "api://interlock", "2.0", "1"},
		{"bad secret", tokenURL, secretForm(sec.ID, "wrong", armScope), 401, "invalid_client", "AADSTS7000215", "", "", ""},
		{"no secret for federated client", tokenURL, secretForm(fed.ID, "s3cret", armScope), 401, "invalid_client", "AADSTS7000215", "", "", ""},
		{"unknown client", tokenURL, secretForm(newGUID(), "s3cret", armScope), 400, "unauthorized_client", "AADSTS700016", "", "", ""},
		{"unknown tenant", loginURL + "/" + newGUID() + "/oauth2/v2.0/token", secretForm(sec.ID, "s3cret", armScope), 400, "invalid_request", "AADSTS90002", "", "", ""},
		{"scope without .default", tokenURL, secretForm(sec.ID, "s3cret", "openid profile"), 400, "invalid_scope", "AADSTS1002012", "", "", ""},
		{"unknown resource", tokenURL, secretForm(sec.ID, "s3cret", "https://example.invalid/.default"), 400, "invalid_resource", "AADSTS500011", "", "", ""},
		{"no credential", tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {sec.ID}, "scope": {armScope}}, 401, "invalid_client", "AADSTS7000218", "", "", ""},
		{"wrong grant", tokenURL, url.Values{"grant_type": {"password"}, "client_id": {sec.ID}}, 400, "unsupported_grant_type", "AADSTS70003", "", "", ""},
		{"assertion", tokenURL, assertionForm(assertion(AssertionOptions{Subject: subject})), 200, "", "", ResourceARM, "1.0", "2"},
		{"assertion forged", tokenURL, assertionForm(assertion(AssertionOptions{Subject: subject, Forge: true})), 401, "invalid_client", "AADSTS700027", "", "", ""},
		{"assertion wrong subject", tokenURL, assertionForm(assertion(AssertionOptions{Subject: "system:serviceaccount:agents:other"})), 401, "invalid_client", "AADSTS700213", "", "", ""},
		{"assertion subject case", tokenURL, assertionForm(assertion(AssertionOptions{Subject: strings.ToUpper(subject)})), 401, "invalid_client", "AADSTS7002138", "", "", ""},
		{"assertion wrong audience", tokenURL, assertionForm(assertion(AssertionOptions{Subject: subject, Audience: "api://other"})), 401, "invalid_client", "AADSTS700212", "", "", ""},
		{"assertion wrong issuer", tokenURL, assertionForm(assertion(AssertionOptions{Subject: subject, Issuer: "https://issuer.invalid/"})), 401, "invalid_client", "AADSTS700211", "", "", ""},
		{"assertion expired", tokenURL, assertionForm(assertion(AssertionOptions{Subject: subject, Lifetime: -time.Minute})), 401, "invalid_client", "AADSTS700024", "", "", ""},
		{"assertion malformed", tokenURL, assertionForm("not-a-jwt"), 401, "invalid_client", "AADSTS50027", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.form(tt.url, tt.form)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if tt.err != "" {
				desc, _ := r.body["error_description"].(string)
				codes, _ := r.body["error_codes"].([]any)
				if r.body["error"] != tt.err || !strings.HasPrefix(desc, tt.aadsts+": ") || len(codes) != 1 ||
					r.body["trace_id"] == nil || r.body["correlation_id"] == nil || !strings.Contains(desc, "\r\nTrace ID: ") {
					t.Errorf("error body %s, want %s %s", r.raw, tt.err, tt.aadsts)
				}
				return
			}
			if r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(3599) || r.body["ext_expires_in"] != float64(3599) {
				t.Errorf("token response %s", r.raw)
			}
			tok, _ := r.body["access_token"].(string)
			claims, fail := srv.verify(tok, []string{tt.aud}, []string{map[string]string{"1.0": srv.IssuerV1(), "2.0": srv.IssuerV2()}[tt.ver]})
			if fail != authOK {
				t.Fatalf("issued token fails verification: %v", fail)
			}
			client := map[string]Client{"1": sec, "2": fed}[tt.acr]
			want := map[string]any{"ver": tt.ver, "tid": srv.TenantID(), "oid": client.ObjectID, "sub": client.ObjectID, "idtyp": "app"}
			if tt.ver == "1.0" {
				want["appid"], want["appidacr"], want["idp"] = client.ID, tt.acr, srv.IssuerV1()
			} else {
				want["azp"], want["azpacr"] = client.ID, tt.acr
			}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			if tt.acr == "1" && (claims["roles"] == nil || claims["xms_cc"] == nil) {
				t.Errorf("roles %v, xms_cc %v: want both", claims["roles"], claims["xms_cc"])
			}
		})
	}

	// The record names the client and the scope, never the secret.
	for _, rq := range srv.Requests() {
		if strings.Contains(rq.Query, "s3cret") {
			t.Errorf("secret recorded: %+v", rq)
		}
		if rq.Path == "/"+srv.TenantID()+"/oauth2/v2.0/token" && rq.ClientID == "" {
			t.Errorf("token request without client ID: %+v", rq)
		}
	}
}

func TestTokenEndpointGet(t *testing.T) {
	srv := startTest(t, Options{})
	r := newClient(t, srv).do("GET", loginURL+"/"+srv.TenantID()+"/oauth2/v2.0/token", "", nil)
	if r.status != http.StatusBadRequest || r.body["error"] != "invalid_request" {
		t.Errorf("GET token = %d %s", r.status, r.raw)
	}
}
