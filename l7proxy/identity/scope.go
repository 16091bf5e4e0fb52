// SPDX-License-Identifier: Apache-2.0

// Scopes: which token a request to an Azure host needs.

package identity

import (
	"net"
	"strings"
)

// Scopes of the public cloud's resources, as azcore asks for them.
const (
	// ScopeARM is Resource Manager's scope: its audience is
	// https://management.core.windows.net/, hence the double slash.
	ScopeARM      = "https://management.core.windows.net//.default"
	ScopeKeyVault = "https://vault.azure.net/.default"
	ScopeStorage  = "https://storage.azure.com/.default"
	// ScopePostgres is Azure Database for PostgreSQL's (Entra
	// authentication).
	ScopePostgres = "https://ossrdbms-aad.database.windows.net/.default"
	ScopeGraph    = "https://graph.microsoft.com/.default"
)

// hostScopes map exact hosts, and suffixes (starting with a dot), to
// scopes.
var hostScopes = []struct{ host, scope string }{
	{"management.azure.com", ScopeARM},
	{"graph.microsoft.com", ScopeGraph},
	{".vault.azure.net", ScopeKeyVault},
	{".blob.core.windows.net", ScopeStorage},
	{".dfs.core.windows.net", ScopeStorage},
	{".queue.core.windows.net", ScopeStorage},
	{".table.core.windows.net", ScopeStorage},
	{".file.core.windows.net", ScopeStorage},
	{".postgres.database.azure.com", ScopePostgres},
}

// ScopeForHost returns the scope of the token that requests to host (with
// or without a port, any case) need, and false for hosts it does not
// know. Only the public cloud is known.
func ScopeForHost(host string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, hs := range hostScopes {
		if strings.HasPrefix(hs.host, ".") {
			if strings.HasSuffix(host, hs.host) && len(host) > len(hs.host) {
				return hs.scope, true
			}
		} else if host == hs.host {
			return hs.scope, true
		}
	}
	return "", false
}
