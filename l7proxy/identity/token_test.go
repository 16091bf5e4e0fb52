// SPDX-License-Identifier: Apache-2.0

// Tests of credential injection: azidentity credentials built from the
// policy, pointed at azurefake's Entra ID over HTTPS, their tokens cached
// and refreshed; and the scope of each host.

package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/testca"
)

// tokenRequests counts azurefake's token requests.
func tokenRequests(srv *azurefake.Server) int { return srv.Count("POST", "/oauth2/v2.0/token") }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAzureTokenSourceClientSecret(t *testing.T) {
	srv := startFake(t, azurefake.Options{TokenLifetime: 4 * time.Minute})
	client := srv.Clients()[0]
	ck := newClock()
	ts, err := NewAzureTokenSource(&policy.AzureCredential{
		Type: policy.AzureClientSecret, TenantID: srv.TenantID(), ClientID: client.ID,
		SecretFile: writeFile(t, "secret", client.Secret+"\n"),
	}, AzureOptions{ClientOptions: azcore.ClientOptions{Transport: fakeClient(t, srv)}, Now: ck.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const n = 8
	toks := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, exp, err := ts.Token(ctx, ScopeARM)
			if err != nil {
				t.Error(err)
			}
			if time.Until(exp) < 3*time.Minute {
				t.Errorf("expiry %v", exp)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	for _, tok := range toks {
		if tok != toks[0] || tok == "" {
			t.Fatal("concurrent callers got different tokens")
		}
	}
	if got := tokenRequests(srv); got != 1 {
		t.Errorf("%d token requests for %d concurrent calls, want 1", got, n)
	}
	reqs := srv.Requests()
	for _, r := range reqs {
		if r.Method == "POST" && (!strings.Contains(r.Scope, ScopeARM) || r.Credential != "secret") {
			t.Errorf("token request scope %q credential %q", r.Scope, r.Credential)
		}
	}

	// The injected token is a real ARM token for the node's identity.
	v, err := NewVerifier([]policy.Issuer{
		{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceARM},
		{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceKeyVault},
	}, Options{HTTPClient: fakeClient(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(ctx, toks[0])
	if err != nil {
		t.Fatal(err)
	}
	if id.AppID != client.ID || id.Claims["appidacr"] != "1" {
		t.Errorf("injected token: appid %q appidacr %v", id.AppID, id.Claims["appidacr"])
	}

	kv, _, err := ts.Token(ctx, ScopeKeyVault)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.Verify(ctx, kv); err != nil || !strings.Contains(strings.Join(id.Audience, ","), "vault.azure.net") {
		t.Errorf("Key Vault token: %v", err)
	}
	if got := tokenRequests(srv); got != 2 {
		t.Errorf("%d token requests after a second scope, want 2", got)
	}

	// Half of the 4-minute lifetime later the token is refreshed (and
	// azidentity, which takes a token within 5 minutes of expiry as stale,
	// asks Entra ID again).
	ck.add(2*time.Minute + time.Second)
	fresh, _, err := ts.Token(ctx, ScopeARM)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == toks[0] {
		t.Error("token not refreshed at half its lifetime")
	}
	if got := tokenRequests(srv); got != 3 {
		t.Errorf("%d token requests after the refresh, want 3", got)
	}
}

// TestAzidentityCaches verifies what the package documentation says:
// azidentity caches tokens in memory per credential.
func TestAzidentityCaches(t *testing.T) {
	srv := startFake(t, azurefake.Options{})
	client := srv.Clients()[0]
	cred, err := azidentity.NewClientSecretCredential(srv.TenantID(), client.ID, client.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: fakeClient(t, srv)}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cred.GetToken(t.Context(), azpolicy.TokenRequestOptions{Scopes: []string{ScopeARM}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := tokenRequests(srv); got != 1 {
		t.Errorf("%d token requests for 3 GetToken calls, want 1", got)
	}
}

func TestAzureTokenSourceWorkloadIdentity(t *testing.T) {
	const subject = "system:serviceaccount:interlock:node-agent"
	srv := startFake(t, azurefake.Options{Clients: []azurefake.Client{{
		Federated: []azurefake.FederatedCredential{{Subject: subject}},
	}}})
	client := srv.Clients()[0]
	file := filepath.Join(t.TempDir(), "token")
	if err := srv.WriteFederatedToken(file, azurefake.AssertionOptions{Subject: subject}); err != nil {
		t.Fatal(err)
	}
	ts, err := NewAzureTokenSource(&policy.AzureCredential{Type: policy.AzureWorkloadIdentity, ClientID: client.ID, TenantID: srv.TenantID()},
		AzureOptions{ClientOptions: azcore.ClientOptions{Transport: fakeClient(t, srv)}, FederatedTokenFile: file})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := ts.Token(t.Context(), ScopeARM)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier([]policy.Issuer{{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceARM}}, Options{HTTPClient: fakeClient(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if id.AppID != client.ID || id.Claims["appidacr"] != "2" {
		t.Errorf("appid %q appidacr %v, want %s and 2 (federated)", id.AppID, id.Claims["appidacr"], client.ID)
	}
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Credential != "assertion" {
			t.Errorf("token request with credential %q, want assertion", r.Credential)
		}
	}
}

// TestAzureTokenSourceClientCertificate: the credential is built from a
// PEM file and sends a client assertion. (azurefake validates assertions
// only from its Kubernetes issuer, so Entra's answer is invalid_client.)
func TestAzureTokenSourceClientCertificate(t *testing.T) {
	srv := startFake(t, azurefake.Options{})
	// Entra client certificates are RSA (azidentity refuses others), and
	// self-signed: uploaded to the app registration, not issued by a CA.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "node-agent"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := testca.PEM(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := NewAzureTokenSource(&policy.AzureCredential{
		Type: policy.AzureClientCertificate, TenantID: srv.TenantID(), ClientID: srv.Clients()[0].ID,
		CertificateFile: writeFile(t, "cert.pem", string(certPEM)+string(keyPEM)),
	}, AzureOptions{ClientOptions: azcore.ClientOptions{Transport: fakeClient(t, srv)}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ts.Token(t.Context(), ScopeARM)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("got %v, want azurefake's invalid_client", err)
	}
	var saw bool
	for _, r := range srv.Requests() {
		saw = saw || (r.Method == "POST" && r.Credential == "assertion")
	}
	if !saw {
		t.Error("no client assertion reached the token endpoint")
	}
}

// TestNewAzureTokenSource: every type is built from the policy (managed
// identity only built: it would call the instance metadata endpoint), and
// bad configurations are refused.
func TestNewAzureTokenSource(t *testing.T) {
	tests := []struct {
		name    string
		cred    *policy.AzureCredential
		wantErr bool
	}{
		{"managed identity", &policy.AzureCredential{Type: policy.AzureManagedIdentity}, false},
		{"user-assigned managed identity", &policy.AzureCredential{Type: policy.AzureManagedIdentity, ClientID: "4f3d3f6c-2f5e-4f59-9d0c-6c1a2b3c4d5e"}, false},
		{"nil", nil, true},
		{"unknown type", &policy.AzureCredential{Type: "password"}, true},
		{"missing secret file", &policy.AzureCredential{Type: policy.AzureClientSecret, TenantID: "t", ClientID: "c", SecretFile: "/nonexistent/secret"}, true},
		{"empty secret", &policy.AzureCredential{Type: policy.AzureClientSecret, TenantID: "t", ClientID: "c", SecretFile: writeFile(t, "empty", " \n")}, true},
		{"not a certificate", &policy.AzureCredential{Type: policy.AzureClientCertificate, TenantID: "t", ClientID: "c", CertificateFile: writeFile(t, "bad.pem", "nope")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAzureTokenSource(tt.cred, AzureOptions{})
			if (err != nil) != tt.wantErr {
				t.Errorf("err %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestScopeForHost(t *testing.T) {
	tests := []struct {
		host, want string
	}{
		{"management.azure.com", ScopeARM},
		{"Management.Azure.com:443", ScopeARM},
		{"myvault.vault.azure.net", ScopeKeyVault},
		{"acct.blob.core.windows.net", ScopeStorage},
		{"acct.dfs.core.windows.net", ScopeStorage},
		{"db1.postgres.database.azure.com:5432", ScopePostgres},
		{"graph.microsoft.com", ScopeGraph},
		{"vault.azure.net", ""},
		{"evil-management.azure.com", ""},
		{"management.azure.com.evil.example", ""},
		{"login.microsoftonline.com", ""},
	}
	for _, tt := range tests {
		got, ok := ScopeForHost(tt.host)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: got %q %v, want %q", tt.host, got, ok, tt.want)
		}
	}
}
