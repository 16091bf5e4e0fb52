// SPDX-License-Identifier: Apache-2.0

package azurefake

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestARMAuth(t *testing.T) {
	srv := startTest(t, Options{ResourceGroups: []string{"rg1"}})
	c := newClient(t, srv)
	groups := armURL + "/subscriptions/" + srv.SubscriptionID() + "/resourcegroups"
	forged, err := srv.ForgeToken(TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		url    string
		token  string
		status int
		code   string
	}{
		{"valid", groups + "?api-version=2025-04-01", mint(t, srv, TokenOptions{}), 200, ""},
		{"management.azure.com audience", groups + "?api-version=2025-04-01", mint(t, srv, TokenOptions{Resource: "https://management.azure.com/"}), 200, ""},
		{"no token", groups + "?api-version=2025-04-01", "", 401, "AuthenticationFailed"},
		{"malformed", groups + "?api-version=2025-04-01", "not.a.jwt", 401, "AuthenticationFailed"},
		{"forged", groups + "?api-version=2025-04-01", forged, 401, "InvalidAuthenticationToken"},
		{"expired", groups + "?api-version=2025-04-01", mint(t, srv, TokenOptions{Lifetime: -time.Minute}), 401, "ExpiredAuthenticationToken"},
		{"wrong audience", groups + "?api-version=2025-04-01", mint(t, srv, TokenOptions{Resource: ResourceKeyVault}), 401, "InvalidAuthenticationTokenAudience"},
		{"wrong issuer", groups + "?api-version=2025-04-01", mint(t, srv, TokenOptions{Claims: map[string]any{"iss": "https://sts.windows.net/" + newGUID() + "/"}}), 401, "InvalidAuthenticationTokenTenant"},
		{"v2 issuer of the tenant", groups + "?api-version=2025-04-01", mint(t, srv, TokenOptions{Claims: map[string]any{"iss": srv.IssuerV2()}}), 200, ""},
		{"v2 issuer of another tenant", groups + "?api-version=2025-04-01", mint(t, srv, TokenOptions{Claims: map[string]any{"iss": loginURL + "/" + newGUID() + "/v2.0"}}), 401, "InvalidAuthenticationTokenTenant"},
		{"missing api-version", groups, mint(t, srv, TokenOptions{}), 400, "MissingApiVersionParameter"},
		{"unknown subscription", armURL + "/subscriptions/" + newGUID() + "/resourcegroups?api-version=2025-04-01", mint(t, srv, TokenOptions{}), 404, "SubscriptionNotFound"},
		{"unknown path", armURL + "/subscriptions/" + srv.SubscriptionID() + "/providers/Microsoft.Compute/virtualMachines?api-version=2025-04-01", mint(t, srv, TokenOptions{}), 404, "NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do("GET", tt.url, tt.token, nil)
			if r.status != tt.status || r.armErrorCode() != tt.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.status, r.armErrorCode(), tt.status, tt.code, r.raw)
			}
			if tt.status == 401 {
				h := r.header.Get("WWW-Authenticate")
				if !strings.HasPrefix(h, `Bearer authorization_uri="https://login.windows.net/`) || !strings.Contains(h, `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q", h)
				}
			}
			reqs := srv.Requests()
			last := reqs[len(reqs)-1]
			wantAuthErr := tt.code
			if tt.status != 401 {
				wantAuthErr = ""
			}
			if last.AuthError != wantAuthErr || last.Status != tt.status || (tt.status != 401) != (last.Claims != nil) {
				t.Errorf("recorded %+v", last)
			}
		})
	}
}

func TestResourceGroupPaging(t *testing.T) {
	var names []string
	for i := range 7 {
		names = append(names, fmt.Sprintf("rg-%d", i))
	}
	srv := startTest(t, Options{ResourceGroups: names, PageSize: 3})
	c := newClient(t, srv)
	tok := mint(t, srv, TokenOptions{})
	// armresources sends "resourcegroups"; accept any case.
	next := armURL + "/subscriptions/" + srv.SubscriptionID() + "/resourceGroups?api-version=2025-04-01"
	var got []string
	pages := 0
	for next != "" {
		r := c.do("GET", next, tok, nil)
		if r.status != 200 {
			t.Fatalf("GET %s = %d %s", next, r.status, r.raw)
		}
		pages++
		for _, v := range r.body["value"].([]any) {
			g := v.(map[string]any)
			got = append(got, g["name"].(string))
			if g["type"] != "Microsoft.Resources/resourceGroups" || g["id"] != "/subscriptions/"+srv.SubscriptionID()+"/resourceGroups/"+g["name"].(string) {
				t.Errorf("group %v", g)
			}
		}
		next, _ = r.body["nextLink"].(string)
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Host != ARMHost || u.Query().Get("$skiptoken") == "" || u.Query().Get("api-version") != "2025-04-01" {
				t.Fatalf("nextLink %q", next)
			}
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%d pages: %v, want 3: %v", pages, got, names)
	}
}

func TestResourceGroupLifecycle(t *testing.T) {
	srv := startTest(t, Options{LROPolls: 2})
	c := newClient(t, srv)
	tok := mint(t, srv, TokenOptions{})
	u := armURL + "/subscriptions/" + srv.SubscriptionID() + "/resourcegroups/Demo-RG?api-version=2025-04-01"
	body := map[string]any{"location": "eastus"}

	steps := []struct {
		method string
		url    string
		body   any
		status int
		code   string
	}{
		{"GET", u, nil, 404, "ResourceGroupNotFound"},
		{"PUT", u, map[string]any{}, 400, "LocationRequired"},
		{"PUT", u, body, 201, ""},
		{"PUT", u, body, 200, ""},
		{"PUT", u, map[string]any{"location": "westus"}, 409, "InvalidResourceGroupLocation"},
		{"GET", strings.Replace(u, "resourcegroups/Demo-RG", "resourceGroups/demo-rg", 1), nil, 200, ""},
		{"HEAD", u, nil, 204, ""},
		{"DELETE", u, nil, 202, ""},
	}
	var loc string
	for _, s := range steps {
		r := c.do(s.method, s.url, tok, s.body)
		if r.status != s.status || r.armErrorCode() != s.code {
			t.Fatalf("%s %s = %d %q, want %d %q: %s", s.method, s.url, r.status, r.armErrorCode(), s.status, s.code, r.raw)
		}
		loc = r.header.Get("Location")
	}
	if !strings.HasPrefix(loc, armURL+"/subscriptions/"+srv.SubscriptionID()+"/operationresults/") {
		t.Fatalf("Location %q", loc)
	}
	if r := c.do("GET", u, tok, nil); r.body["properties"].(map[string]any)["provisioningState"] != "Deleting" {
		t.Errorf("during delete: %s", r.raw)
	}
	if r := c.do("PUT", u, tok, body); r.status != 409 || r.armErrorCode() != "ResourceGroupBeingDeleted" {
		t.Errorf("PUT during delete = %d %s", r.status, r.raw)
	}
	for i, want := range []int{202, 202, 200, 200} {
		r := c.do("GET", loc, tok, nil)
		if r.status != want {
			t.Fatalf("poll %d = %d, want %d", i, r.status, want)
		}
		if want == 202 && (r.header.Get("Retry-After") != "1" || r.header.Get("Location") != loc) {
			t.Errorf("poll %d headers %v", i, r.header)
		}
	}
	if r := c.do("GET", u, tok, nil); r.status != 404 {
		t.Errorf("after delete = %d", r.status)
	}
	if n := srv.Count("GET", "/operationresults/"); n != 4 {
		t.Errorf("recorded %d polls, want 4", n)
	}
}

func TestStorageAccounts(t *testing.T) {
	srv := startTest(t, Options{
		StorageAccounts: []StorageAccount{{ResourceGroup: "rg1", Name: "seeded1"}, {ResourceGroup: "rg2", Name: "seeded2"}},
	})
	c := newClient(t, srv)
	tok := mint(t, srv, TokenOptions{})
	sub := armURL + "/subscriptions/" + srv.SubscriptionID()
	acct := func(rg, name, suffix string) string {
		return sub + "/resourceGroups/" + rg + "/providers/Microsoft.Storage/storageAccounts/" + name + suffix + "?api-version=2025-01-01"
	}
	create := map[string]any{"kind": "StorageV2", "location": "eastus", "sku": map[string]any{"name": "Standard_LRS"}}

	names := func(r response) []string {
		var out []string
		for _, v := range r.body["value"].([]any) {
			out = append(out, v.(map[string]any)["name"].(string))
		}
		return out
	}
	if r := c.do("GET", sub+"/providers/Microsoft.Storage/storageAccounts?api-version=2025-01-01", tok, nil); r.status != 200 || fmt.Sprint(names(r)) != "[seeded1 seeded2]" {
		t.Errorf("list by subscription = %d %s", r.status, r.raw)
	}
	if r := c.do("GET", sub+"/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts?api-version=2025-01-01", tok, nil); r.status != 200 || fmt.Sprint(names(r)) != "[seeded2]" {
		t.Errorf("list by group = %d %s", r.status, r.raw)
	}

	for _, tt := range []struct {
		name, url string
		status    int
		code      string
	}{
		{"invalid name", acct("rg1", "Bad_Name", ""), 400, "AccountNameInvalid"},
		{"missing group", acct("nope", "newacct", ""), 404, "ResourceGroupNotFound"},
		{"taken", acct("rg1", "seeded2", ""), 409, "StorageAccountAlreadyTaken"},
		{"existing", acct("rg1", "seeded1", ""), 200, ""},
	} {
		if r := c.do("PUT", tt.url, tok, create); r.status != tt.status || r.armErrorCode() != tt.code {
			t.Errorf("%s: %d %q, want %d %q", tt.name, r.status, r.armErrorCode(), tt.status, tt.code)
		}
	}

	r := c.do("PUT", acct("rg1", "newacct", ""), tok, create)
	loc := r.header.Get("Location")
	if r.status != 202 || !strings.Contains(loc, "/providers/Microsoft.Storage/locations/eastus/asyncoperations/") || r.header.Get("Azure-AsyncOperation") != "" {
		t.Fatalf("create = %d, Location %q, headers %v", r.status, loc, r.header)
	}
	if r := c.do("GET", loc, tok, nil); r.status != 202 {
		t.Errorf("first poll = %d", r.status)
	}
	r = c.do("GET", loc, tok, nil)
	if r.status != 200 || r.body["name"] != "newacct" || r.body["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Errorf("final poll = %d %s", r.status, r.raw)
	}

	keys := func(r response) map[string]string {
		out := map[string]string{}
		for _, k := range r.body["keys"].([]any) {
			m := k.(map[string]any)
			out[m["keyName"].(string)] = m["value"].(string)
		}
		return out
	}
	before := keys(c.do("POST", acct("rg1", "newacct", "/listKeys"), tok, nil))
	if len(before["key1"]) != 88 || len(before["key2"]) != 88 || before["key1"] == before["key2"] {
		t.Fatalf("keys %v", before)
	}
	after := keys(c.do("POST", acct("rg1", "newacct", "/regenerateKey"), tok, map[string]any{"keyName": "key1"}))
	if after["key1"] == before["key1"] || after["key2"] != before["key2"] || len(after["key1"]) != 88 {
		t.Errorf("regenerate key1: before %v, after %v", before, after)
	}
	if r := c.do("POST", acct("rg1", "newacct", "/regenerateKey"), tok, map[string]any{"keyName": "key3"}); r.status != 400 {
		t.Errorf("regenerate key3 = %d", r.status)
	}
	if r := c.do("POST", acct("rg1", "nope", "/listKeys"), tok, nil); r.status != 404 || r.armErrorCode() != "ResourceNotFound" {
		t.Errorf("listKeys of missing account = %d %s", r.status, r.raw)
	}
	if r := c.do("DELETE", acct("rg1", "newacct", ""), tok, nil); r.status != 200 {
		t.Errorf("delete = %d", r.status)
	}
	if r := c.do("DELETE", acct("rg1", "newacct", ""), tok, nil); r.status != 204 {
		t.Errorf("second delete = %d", r.status)
	}
}

func TestAsyncOperation(t *testing.T) {
	srv := startTest(t, Options{ResourceGroups: []string{"rg1"}, AsyncOperation: true})
	c := newClient(t, srv)
	tok := mint(t, srv, TokenOptions{})
	u := armURL + "/subscriptions/" + srv.SubscriptionID() + "/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/acct1?api-version=2025-01-01"
	r := c.do("PUT", u, tok, map[string]any{"kind": "StorageV2", "location": "eastus", "sku": map[string]any{"name": "Standard_LRS"}})
	async := r.header.Get("Azure-AsyncOperation")
	if r.status != 202 || !strings.Contains(async, "/operationStatuses/") || r.header.Get("Location") == "" {
		t.Fatalf("create = %d, headers %v", r.status, r.header)
	}
	if r := c.do("GET", u, tok, nil); r.body["properties"].(map[string]any)["provisioningState"] != "Creating" {
		t.Errorf("during create: %s", r.raw)
	}
	for i, want := range []string{"InProgress", "Succeeded", "Succeeded"} {
		r := c.do("GET", async, tok, nil)
		if r.status != 200 || r.body["status"] != want {
			t.Errorf("status poll %d = %d %s, want %s", i, r.status, r.raw, want)
		}
	}
	if r := c.do("GET", u, tok, nil); r.body["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Errorf("after create: %s", r.raw)
	}
}

func TestCloseTwice(t *testing.T) {
	srv, err := Start(t.Context(), Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err == nil {
		t.Error("second Close returned nil")
	}
}
