// SPDX-License-Identifier: Apache-2.0

// Entra ID metadata: instance discovery, OpenID configurations and JWKS.

package azurefake

import (
	"net/http"
	"net/url"
	"strings"
)

// serveEntra answers login.microsoftonline.com.
func (s *Server) serveEntra(w http.ResponseWriter, r *http.Request, rec *Request) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	path := strings.ToLower(strings.Join(seg[min(1, len(seg)):], "/"))
	tenant := seg[0]
	if path == "oauth2/v2.0/token" {
		s.serveToken(w, r, rec, tenant)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case strings.EqualFold(tenant, "common") && path == "discovery/instance":
		s.serveInstanceDiscovery(w, r)
	case path == "discovery/v2.0/keys" || path == "discovery/keys":
		s.serveJWKS(w, r, tenant, path == "discovery/v2.0/keys")
	case path == "v2.0/.well-known/openid-configuration":
		s.serveOpenIDConfig(w, r, tenant, true)
	case path == ".well-known/openid-configuration":
		s.serveOpenIDConfig(w, r, tenant, false)
	default:
		http.NotFound(w, r)
	}
}

// knownTenant reports whether tenant names this tenant or, when aliases
// is set, is one of the multi-tenant aliases.
func (s *Server) knownTenant(tenant string, aliases bool) bool {
	if strings.EqualFold(tenant, s.opts.TenantID) {
		return true
	}
	switch strings.ToLower(tenant) {
	case "common", "organizations":
		return aliases
	}
	return false
}

// serveInstanceDiscovery answers MSAL's instance discovery:
// GET /common/discovery/instance?api-version=1.1&authorization_endpoint=….
func (s *Server) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	authz, err := url.Parse(q.Get("authorization_endpoint"))
	if q.Get("api-version") == "" || err != nil || authz.Host == "" {
		s.entraError(w, nil, http.StatusBadRequest, "invalid_instance", 50049,
			"Unknown or invalid instance.")
		return
	}
	tenant := strings.Split(strings.Trim(authz.Path, "/"), "/")[0]
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": loginURL + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{
			{
				"preferred_network": LoginHost,
				"preferred_cache":   "login.windows.net",
				"aliases":           []string{LoginHost, "login.windows.net", "login.microsoft.com", "sts.windows.net"},
			},
		},
	})
}

// serveOpenIDConfig answers the v2.0 or v1 OpenID configuration.
func (s *Server) serveOpenIDConfig(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	if !s.knownTenant(tenant, true) {
		s.entraError(w, nil, http.StatusBadRequest, "invalid_tenant", 90002,
			"Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	tid := s.opts.TenantID
	if !strings.EqualFold(tenant, tid) {
		tid = "{tenantid}" // Entra's placeholder in the multi-tenant documents
	}
	base := loginURL + "/" + tenant
	doc := map[string]any{
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     base + "/kerberos",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	}
	if v2 {
		doc["issuer"] = loginURL + "/" + tid + "/v2.0"
		doc["token_endpoint"] = base + "/oauth2/v2.0/token"
		doc["jwks_uri"] = base + "/discovery/v2.0/keys"
		doc["authorization_endpoint"] = base + "/oauth2/v2.0/authorize"
		doc["device_authorization_endpoint"] = base + "/oauth2/v2.0/devicecode"
		doc["end_session_endpoint"] = base + "/oauth2/v2.0/logout"
		doc["userinfo_endpoint"] = "https://graph.microsoft.com/oidc/userinfo"
	} else {
		doc["issuer"] = "https://sts.windows.net/" + tid + "/"
		doc["token_endpoint"] = base + "/oauth2/token"
		doc["jwks_uri"] = loginURL + "/common/discovery/keys"
		doc["authorization_endpoint"] = base + "/oauth2/authorize"
		doc["device_authorization_endpoint"] = base + "/oauth2/devicecode"
		doc["end_session_endpoint"] = base + "/oauth2/logout"
		doc["userinfo_endpoint"] = base + "/openid/userinfo"
		doc["check_session_iframe"] = base + "/oauth2/checksession"
	}
	writeJSON(w, http.StatusOK, doc)
}

// serveJWKS publishes the signing keys; the v2.0 set names the issuer of
// each key as Entra's does.
func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	if !s.knownTenant(tenant, true) {
		s.entraError(w, nil, http.StatusBadRequest, "invalid_tenant", 90002,
			"Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	issuer := ""
	if v2 {
		tid := s.opts.TenantID
		if !strings.EqualFold(tenant, tid) {
			tid = "{tenantid}"
		}
		issuer = loginURL + "/" + tid + "/v2.0"
	}
	keys := make([]jwk, 0, len(s.keys))
	for _, k := range s.keys {
		keys = append(keys, k.jwk(issuer))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}
