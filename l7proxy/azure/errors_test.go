// SPDX-License-Identifier: Apache-2.0

// Requests Parse must refuse: unknown hosts and operations, and hostile
// paths and queries.

package azure

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const arm, vault, blob = "management.azure.com", "myvault.vault.azure.net", "acct1.blob.core.windows.net"
	q := api(vRes)
	cases := []struct {
		name                      string
		method, host, path, query string
		want                      error
	}{
		{"other host", "GET", "example.com", S, q, ErrUnknownHost},
		{"suffix trick", "GET", "management.azure.com.evil.example", S, q, ErrUnknownHost},
		{"prefix trick", "GET", "evilmanagement.azure.com", S, q, ErrUnknownHost},
		{"vault suffix trick", "GET", "kv.vault.azure.net.evil.example", "/secrets/x", q, ErrUnknownHost},
		{"bare vault suffix", "GET", "vault.azure.net", "/secrets/x", q, ErrUnknownHost},
		{"vault name with dot", "GET", "a.bc.vault.azure.net", "/secrets/x", q, ErrUnknownHost},
		{"ipv6 literal", "GET", "[::1]:443", S, q, ErrUnknownHost},
		{"unicode fold in host", "GET", "management.azure.co\u212a", S, q, ErrUnknownHost},
		{"OPTIONS", "OPTIONS", arm, S + "/resourcegroups", q, ErrUnknownOperation},
		{"lower-case method", "get", arm, S + "/resourcegroups", q, ErrUnknownOperation},
		{"root", "GET", arm, "/", q, ErrUnknownOperation},
		{"unknown subscription child", "GET", arm, S + "/frobnicate", q, ErrUnknownOperation},
		{"rg export not documented", "POST", arm, S + "/resourcegroups/rg1/exportTemplate", q, ErrUnknownOperation},
		{"POST on a group", "POST", arm, S + "/resourcegroups/rg1", q, ErrUnknownOperation},
		{"delete subscription", "DELETE", arm, S, q, ErrUnknownOperation},
		{"ends at namespace", "GET", arm, S + "/resourceGroups/rg1/providers/Microsoft.Storage", q, ErrUnknownOperation},
		{"providers without namespace", "GET", arm, S + "/resourceGroups/rg1/providers", q, ErrUnknownOperation},
		{"unicode long s keyword", "GET", arm, "/%C5%BFubscriptions/" + sub, q, ErrUnknownOperation},
		{"encoded slash", "DELETE", arm, S + "/resourcegroups/rg1%2Fproviders%2FMicrosoft.Storage%2FstorageAccounts%2Fa", q, ErrInvalidRequest},
		{"encoded slash lower", "GET", arm, S + "/resourcegroups/rg%2f1", q, ErrInvalidRequest},
		{"double encoding", "GET", arm, S + "/resourcegroups/rg%252F1", q, ErrInvalidRequest},
		{"encoded backslash", "GET", arm, S + "/resourcegroups/rg%5C1", q, ErrInvalidRequest},
		{"raw backslash", "GET", arm, S + "/resourcegroups\\rg1", q, ErrInvalidRequest},
		{"dot dot", "GET", arm, S + "/resourcegroups/rg1/../rg2", q, ErrInvalidRequest},
		{"encoded dot dot", "DELETE", arm, S + "/resourcegroups/rg1/%2E%2E", q, ErrInvalidRequest},
		{"empty segment", "GET", arm, S + "//resourcegroups/rg1", q, ErrInvalidRequest},
		{"NUL", "GET", arm, S + "/resourcegroups/rg%001", q, ErrInvalidRequest},
		{"raw space", "GET", arm, S + "/resourcegroups/rg 1", q, ErrInvalidRequest},
		{"raw non-ASCII", "GET", arm, S + "/resourcegroups/rg\xc3\xa9", q, ErrInvalidRequest},
		{"bad escape", "GET", arm, S + "/resourcegroups/rg%zz", q, ErrInvalidRequest},
		{"truncated escape", "GET", arm, S + "/resourcegroups/rg%4", q, ErrInvalidRequest},
		{"invalid UTF-8", "GET", arm, S + "/resourcegroups/rg%C3", q, ErrInvalidRequest},
		{"no leading slash", "GET", arm, "subscriptions/" + sub, q, ErrInvalidRequest},
		{"subscription not a GUID", "GET", arm, "/subscriptions/not-a-guid/resourcegroups", q, ErrInvalidRequest},
		{"namespace without dot", "GET", arm, S + "/providers/Storage/storageAccounts", q, ErrInvalidRequest},
		{"type with symbol", "GET", arm, S + "/providers/Microsoft.Storage/storage$Accounts", q, ErrInvalidRequest},
		{"action with symbol", "POST", arm, S + "/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/a/list!Keys", q, ErrInvalidRequest},
		{"path too long", "GET", arm, S + "/resourcegroups/" + strings.Repeat("a", MaxPathLength), q, ErrInvalidRequest},
		{"too many segments", "GET", arm, S + "/resourceGroups/rg1/providers/Microsoft.X" + strings.Repeat("/t/n", MaxSegments), q, ErrInvalidRequest},
		{"query too long", "GET", arm, S, "x=" + strings.Repeat("a", MaxQueryLength), ErrInvalidRequest},
		{"repeated api-version", "GET", arm, S + "/resourcegroups", q + "&api-version=2099-01-01", ErrInvalidRequest},
		{"repeated api-version other case", "GET", arm, S + "/resourcegroups", q + "&API-Version=2099-01-01", ErrInvalidRequest},
		{"repeated api-version encoded", "GET", arm, S + "/resourcegroups", q + "&api%2Dversion=2099-01-01", ErrInvalidRequest},
		{"malformed api-version", "GET", arm, S + "/resourcegroups", "api-version=2025%0A", ErrInvalidRequest},
		{"bad query escape", "GET", arm, S + "/resourcegroups", "api-version=%zz", ErrInvalidRequest},
		{"kv unknown collection", "GET", vault, "/storage/x", q, ErrUnknownOperation},
		{"kv bad secret name", "GET", vault, "/secrets/a_b", q, ErrInvalidRequest},
		{"kv too deep", "GET", vault, "/secrets/a/" + strings.Repeat("b", 32) + "/c", q, ErrUnknownOperation},
		{"kv empty version outside key ops", "GET", vault, "/secrets/a//x", q, ErrInvalidRequest},
		{"kv HEAD", "HEAD", vault, "/secrets/a", q, ErrUnknownOperation},
		{"kv key op by GET", "GET", vault, "/keys/k/" + strings.Repeat("c", 32) + "/decrypt", q, ErrUnknownOperation},
		{"kv encoded slash", "GET", vault, "/secrets/a%2Fb", q, ErrInvalidRequest},
		{"blob batch", "POST", blob, "/", "comp=batch", ErrUnknownOperation},
		{"container batch", "POST", blob, "/logs", "restype=container&comp=batch", ErrUnknownOperation},
		{"blob unknown comp", "PUT", blob, "/logs/a", "comp=frobnicate", ErrUnknownOperation},
		{"blob repeated comp", "PUT", blob, "/logs/a", "comp=tags&comp=block", ErrInvalidRequest},
		{"blob dot dot", "GET", blob, "/logs/a/../b", "", ErrInvalidRequest},
		{"blob encoded dot dot", "GET", blob, "/logs/a/%2E%2E/b", "", ErrInvalidRequest},
		{"blob empty part", "GET", blob, "/logs/a//b", "", ErrInvalidRequest},
		{"blob trailing slash", "GET", blob, "/logs/a/", "", ErrInvalidRequest},
		{"container trailing slash without restype", "GET", blob, "/logs/", "", ErrInvalidRequest},
		{"blob control char", "GET", blob, "/logs/a%0Ab", "", ErrInvalidRequest},
		{"blob bad container", "GET", blob, "/Logs/a", "", ErrInvalidRequest},
		{"blob restype on blob", "GET", blob, "/logs/a", "restype=container", ErrUnknownOperation},
		{"blob name too long", "GET", blob, "/logs/" + strings.Repeat("a", 1025), "", ErrInvalidRequest},
		{"blob OPTIONS", "OPTIONS", blob, "/logs/a", "", ErrUnknownOperation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op, err := Parse(c.method, c.host, c.path, c.query)
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse(%s %s %q ?%s) = %+v, %v; want %v", c.method, c.host, c.path, c.query, op, err, c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason == "" || len(pe.Path) > maxErrorPath {
				t.Fatalf("error %v is not a *ParseError with a reason and a short path", err)
			}
			if op != (Operation{}) {
				t.Fatalf("operation not zero on error: %+v", op)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "https://management.azure.com"+acct+"/listKeys?api-version=2025-01-01", nil)
	op, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if op.Operation != "Microsoft.Storage/storageAccounts/listKeys/action" || op.ResourceName != "acct1" {
		t.Fatalf("got %+v", op)
	}
	// A %2F the client sent stays encoded in EscapedPath and is refused.
	r = httptest.NewRequest("DELETE", "https://management.azure.com"+S+"/resourcegroups/a%2Fb?api-version=2025-04-01", nil)
	if _, err := ParseRequest(r); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("encoded slash: %v", err)
	}
	a := op.ARM()
	if a.Operation != op.Operation || a.Provider != "Microsoft.Storage" || a.ResourceType != "storageAccounts" ||
		a.ResourceName != "acct1" || a.Action != "listKeys" || a.APIVersion != "2025-01-01" ||
		a.Subscription != sub || a.ResourceGroup != "rg1" {
		t.Fatalf("ARM() = %+v", a)
	}
}
