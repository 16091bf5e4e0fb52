// SPDX-License-Identifier: Apache-2.0

// Credential injection: the node's own tokens, from azidentity, cached
// until shortly before they expire.

package identity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// DefaultRefreshBefore is how long before its expiry a cached token is
// replaced (at most half its lifetime).
const DefaultRefreshBefore = 5 * time.Minute

// TokenSource gives the access tokens the proxy injects upstream. A token
// is a secret: never log or record it.
type TokenSource interface {
	// Token returns a token for scope (e.g. ScopeARM) and its expiry.
	Token(ctx context.Context, scope string) (token string, expiry time.Time, err error)
}

// AzureOptions adjust an AzureTokenSource.
type AzureOptions struct {
	// ClientOptions of the azidentity credential: transport, retries,
	// cloud (authority host).
	ClientOptions azcore.ClientOptions
	// FederatedTokenFile is the Kubernetes service account token for
	// workloadIdentity; empty means $AZURE_FEDERATED_TOKEN_FILE.
	FederatedTokenFile string
	// RefreshBefore: see DefaultRefreshBefore.
	RefreshBefore time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// AzureTokenSource is a TokenSource over an azidentity credential, with a
// cache per scope. It is safe for concurrent use; concurrent requests for
// one scope share one token request.
type AzureTokenSource struct {
	cred          azcore.TokenCredential
	refreshBefore time.Duration
	now           func() time.Time

	mu     sync.Mutex
	scopes map[string]*scopeToken // guarded by mu
}

// scopeToken is one scope's cached token; sem (capacity 1) guards the
// other fields and serializes refreshes.
type scopeToken struct {
	sem       chan struct{}
	token     string
	expiry    time.Time
	refreshAt time.Time
}

// NewAzureTokenSource makes the azidentity credential that c describes:
// workloadIdentity (client and tenant IDs default to the AZURE_CLIENT_ID
// and AZURE_TENANT_ID that the webhook sets), managedIdentity (clientId
// selects a user-assigned identity), clientSecret (the secret is read from
// SecretFile now) or clientCertificate (a PEM file with the certificate
// and its unencrypted key, read now). Nothing is requested until Token.
func NewAzureTokenSource(c *policy.AzureCredential, o AzureOptions) (*AzureTokenSource, error) {
	if c == nil {
		return nil, errors.New("identity: no azure credential")
	}
	cred, err := newCredential(c, o)
	if err != nil {
		return nil, fmt.Errorf("identity: %s credential: %w", c.Type, err)
	}
	return NewTokenSource(cred, o), nil
}

func newCredential(c *policy.AzureCredential, o AzureOptions) (azcore.TokenCredential, error) {
	switch c.Type {
	case policy.AzureWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: o.ClientOptions,
			ClientID:      c.ClientID,
			TenantID:      c.TenantID,
			TokenFilePath: o.FederatedTokenFile,
		})
	case policy.AzureManagedIdentity:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: o.ClientOptions}
		if c.ClientID != "" {
			mo.ID = azidentity.ClientID(c.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(mo)
	case policy.AzureClientSecret:
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		secret := strings.TrimSpace(string(b))
		if secret == "" {
			return nil, fmt.Errorf("secret file %s is empty", c.SecretFile)
		}
		return azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: o.ClientOptions})
	case policy.AzureClientCertificate:
		b, err := os.ReadFile(c.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("read certificate: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(b, nil)
		if err != nil {
			return nil, fmt.Errorf("parse certificate %s: %w", c.CertificateFile, err)
		}
		return azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: o.ClientOptions})
	default:
		return nil, fmt.Errorf("unknown type %q", c.Type)
	}
}

// NewTokenSource caches the tokens of any credential.
func NewTokenSource(cred azcore.TokenCredential, o AzureOptions) *AzureTokenSource {
	s := &AzureTokenSource{cred: cred, refreshBefore: o.RefreshBefore, now: o.Now, scopes: map[string]*scopeToken{}}
	if s.refreshBefore <= 0 {
		s.refreshBefore = DefaultRefreshBefore
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Token returns the cached token for scope, or gets one when there is
// none or it is due for refresh: DefaultRefreshBefore (or half its
// lifetime, if shorter) before it expires. If a refresh fails while the
// cached token is still valid, the cached token is returned.
func (s *AzureTokenSource) Token(ctx context.Context, scope string) (string, time.Time, error) {
	s.mu.Lock()
	st := s.scopes[scope]
	if st == nil {
		st = &scopeToken{sem: make(chan struct{}, 1)}
		s.scopes[scope] = st
	}
	s.mu.Unlock()
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return "", time.Time{}, fmt.Errorf("identity: token for %s: %w", scope, ctx.Err())
	}
	defer func() { <-st.sem }()
	now := s.now()
	if st.token != "" && now.Before(st.refreshAt) {
		return st.token, st.expiry, nil
	}
	tk, err := s.cred.GetToken(ctx, azpolicy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		if st.token != "" && now.Before(st.expiry) {
			return st.token, st.expiry, nil
		}
		return "", time.Time{}, fmt.Errorf("identity: token for %s: %w", scope, err)
	}
	st.token, st.expiry = tk.Token, tk.ExpiresOn
	st.refreshAt = tk.ExpiresOn.Add(-min(s.refreshBefore, tk.ExpiresOn.Sub(now)/2))
	return st.token, st.expiry, nil
}
