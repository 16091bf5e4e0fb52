// SPDX-License-Identifier: Apache-2.0

// Options and the seed data types that configure a Server, and their defaults.

package azurefake

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/interlockhq/interlock/test/testca"
)

// Options configure a Server. The zero value is usable: every field has a
// default.
type Options struct {
	// CA issues the server certificate. Nil: a new CA is created; get it
	// from [Server.CA].
	CA *testca.CA
	// Addr is the listen address. Empty: a random 127.a.b.c:443 (never
	// 127.0.0.1), retried on another address when in use. Port 0 is
	// allowed, e.g. "127.0.0.1:0" for unit tests.
	Addr string
	// TenantID and SubscriptionID default to random GUIDs.
	TenantID, SubscriptionID string
	// Clients are the app registrations that may get tokens. Empty: one
	// client with a random ID and secret.
	Clients []Client
	// Vaults are the Key Vault names served as NAME.vault.azure.net.
	Vaults []string
	// Secrets seed the vaults.
	Secrets []Secret
	// Blobs seed Blob Storage: read-only block blobs whose content is
	// generated as it is sent. Their accounts, and those of
	// StorageAccounts, are served as ACCOUNT.blob.core.windows.net.
	Blobs []Blob
	// ResourceGroups seed the subscription (in Location).
	ResourceGroups []string
	// StorageAccounts seed the subscription; their groups are created too.
	StorageAccounts []StorageAccount
	// Location of seeded and defaulted resources; default "eastus".
	Location string
	// PageSize is the number of items per page of every list; default 100.
	PageSize int
	// LROPolls is how many polls of a long-running operation answer "still
	// running" before the one that answers "done"; default 1.
	LROPolls int
	// RetryAfter is sent with every long-running operation response, in
	// whole seconds (at least 1); default 1 s.
	RetryAfter time.Duration
	// AsyncOperation makes long-running operations answer with an
	// Azure-AsyncOperation header (and Location) instead of Location only,
	// which is what real Azure sends for resource-group delete and
	// storage-account create.
	AsyncOperation bool
	// TokenLifetime of issued access tokens; default 1 h.
	TokenLifetime time.Duration
	// FederatedIssuer is the issuer of the Kubernetes service account
	// tokens that [Server.FederatedAssertion] mints. Default: an AKS-style
	// https://eastus.oic.prod-aks.azure.com/{tenant}/{guid}/.
	FederatedIssuer string
	// Logger receives server errors (TLS handshakes and such); nil
	// discards them.
	Logger *slog.Logger
}

// Client is an app registration (service principal) known to Entra ID.
type Client struct {
	// ID is the application (client) ID; default a random GUID.
	ID string
	// Secret is the client secret; empty refuses secret authentication.
	Secret string
	// ObjectID is the service principal's object ID, sent as oid and sub;
	// default a random GUID.
	ObjectID string
	// Roles and Groups are put into the tokens when not empty.
	Roles, Groups []string
	// Federated are the federated identity credentials that let a
	// Kubernetes service account token stand in for a secret.
	Federated []FederatedCredential
}

// FederatedCredential trusts assertions with this issuer, subject and an
// audience among Audiences, as an Entra federated identity credential does.
type FederatedCredential struct {
	// Issuer; empty means the server's own [Server.FederatedIssuer].
	Issuer string
	// Subject, e.g. "system:serviceaccount:ns:name"; compared exactly.
	Subject string
	// Audiences; empty means [FederatedAudience].
	Audiences []string
}

// StorageAccount seeds a storage account.
type StorageAccount struct {
	ResourceGroup, Name string
	// Location defaults to Options.Location, Kind to "StorageV2", SKU to
	// "Standard_LRS".
	Location, Kind, SKU string
}

// Secret seeds a Key Vault secret.
type Secret struct {
	Vault, Name, Value string
}

// withDefaults returns a copy of o with every default filled in.
func (o Options) withDefaults() (Options, error) {
	var err error
	if o.TenantID == "" {
		o.TenantID = newGUID()
	}
	if o.SubscriptionID == "" {
		o.SubscriptionID = newGUID()
	}
	if o.Location == "" {
		o.Location = "eastus"
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.LROPolls <= 0 {
		o.LROPolls = 1
	}
	if o.RetryAfter < time.Second {
		o.RetryAfter = time.Second
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
	}
	if o.FederatedIssuer == "" {
		o.FederatedIssuer = fmt.Sprintf("https://%s.oic.prod-aks.azure.com/%s/%s/", o.Location, o.TenantID, newGUID())
	}
	if len(o.Clients) == 0 {
		o.Clients = []Client{{}}
	}
	clients := make([]Client, len(o.Clients))
	seen := map[string]bool{}
	for i, c := range o.Clients {
		if c.ID == "" {
			c.ID = newGUID()
			if c.Secret == "" && len(c.Federated) == 0 {
				c.Secret = newSecret()
			}
		}
		if c.ObjectID == "" {
			c.ObjectID = newGUID()
		}
		if seen[strings.ToLower(c.ID)] {
			return o, fmt.Errorf("duplicate client %q", c.ID)
		}
		seen[strings.ToLower(c.ID)] = true
		fed := make([]FederatedCredential, len(c.Federated))
		for j, f := range c.Federated {
			if f.Issuer == "" {
				f.Issuer = o.FederatedIssuer
			}
			if len(f.Audiences) == 0 {
				f.Audiences = []string{FederatedAudience}
			}
			fed[j] = f
		}
		c.Federated = fed
		clients[i] = c
	}
	o.Clients = clients
	if o.Blobs, err = checkBlobs(o.Blobs); err != nil {
		return o, err
	}
	return o, nil
}
