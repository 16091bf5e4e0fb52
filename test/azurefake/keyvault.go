// SPDX-License-Identifier: Apache-2.0

// Key Vault data plane: the authentication challenge and secrets (get, set,
// list, list versions).

package azurefake

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// kvAudiences are the audiences Key Vault accepts: the resource, with or
// without the slash, and the Key Vault app ID.
func kvAudiences() []string {
	return []string{"https://vault.azure.net", "https://vault.azure.net/", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"}
}

// kvPageMax is the largest page Key Vault returns.
const kvPageMax = 25

// serveVault answers {vault}.vault.azure.net: token (or the challenge)
// first, then api-version, then the route.
func (s *Server) serveVault(w http.ResponseWriter, r *http.Request, rec *Request, vault string) {
	if !s.kvAuth(w, r, rec) {
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		kvError(w, http.StatusBadRequest, "BadParameter", "The 'api-version' query parameter is required.")
		return
	}
	seg := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if n := len(seg); n > 1 && seg[n-1] == "" {
		seg = seg[:n-1] // GetSecret(name, "") requests /secrets/{name}/
	}
	if !strings.EqualFold(seg[0], "secrets") {
		kvError(w, http.StatusNotFound, "NotFound", "The requested path was not found: "+r.URL.Path)
		return
	}
	switch {
	case len(seg) == 1 && r.Method == http.MethodGet:
		s.listSecrets(w, r, vault, "")
	case len(seg) == 2 && r.Method == http.MethodGet:
		s.getSecret(w, vault, seg[1], "")
	case len(seg) == 2 && r.Method == http.MethodPut:
		s.setSecret(w, r, vault, seg[1])
	case len(seg) == 3 && r.Method == http.MethodGet && strings.EqualFold(seg[2], "versions"):
		s.listSecrets(w, r, vault, seg[1])
	case len(seg) == 3 && r.Method == http.MethodGet:
		s.getSecret(w, vault, seg[1], seg[2])
	default:
		kvError(w, http.StatusMethodNotAllowed, "BadParameter",
			fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method))
	}
}

// kvAuth verifies the bearer token. Without one it sends the challenge
// that azsecrets expects before it gets a token; with a bad one the same
// challenge and the reason.
func (s *Server) kvAuth(w http.ResponseWriter, r *http.Request, rec *Request) bool {
	raw, ok := bearer(r)
	fail := authMissing
	var claims map[string]any
	if ok {
		claims, fail = s.verify(raw, kvAudiences(), s.issuers())
	}
	if fail == authOK {
		rec.Claims = claims
		return true
	}
	var msg string
	switch fail {
	case authMissing:
		msg = "AKV10000: Request is missing a Bearer or PoP token."
	case authMalformed, authSignature:
		msg = "AKV10001: Token validation failed: invalid token."
	case authExpired:
		msg = "AKV10017: Token validation failed: the token is expired."
	case authNotYetValid:
		msg = "AKV10017: Token validation failed: the token is not yet valid."
	case authAudience:
		aud, _ := claims["aud"].(string)
		msg = fmt.Sprintf("AKV10022: Invalid audience. Expected %s, found: %s.", ResourceKeyVault, aud)
	case authIssuer:
		iss, _ := claims["iss"].(string)
		msg = fmt.Sprintf("AKV10032: Invalid issuer. Expected one of %s, found %s.", s.IssuerV1(), iss)
	}
	rec.AuthError = "Unauthorized"
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s/%s", resource="%s"`, loginURL, s.opts.TenantID, ResourceKeyVault))
	kvError(w, http.StatusUnauthorized, "Unauthorized", msg)
	return false
}

// kvError sends Key Vault's {"error":{"code":…,"message":…}}.
func kvError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// validSecretName reports whether name is 1 to 127 letters, digits and
// dashes.
func validSecretName(name string) bool {
	if name == "" || len(name) > 127 {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func vaultURL(vault string) string { return "https://" + vault + VaultSuffix }

// secretAttributes are a version's attributes; times are Unix seconds.
func secretAttributes(v *secretVersion) map[string]any {
	return map[string]any{
		"enabled":         true,
		"created":         v.created.Unix(),
		"updated":         v.created.Unix(),
		"recoveryLevel":   "Recoverable+Purgeable",
		"recoverableDays": 90,
	}
}

// secretItem is a version as a list returns it (no value); id names the
// version when versioned is set.
func secretItem(vault string, v *secretVersion, versioned bool) map[string]any {
	id := vaultURL(vault) + "/secrets/" + v.name
	if versioned {
		id += "/" + v.version
	}
	m := map[string]any{"id": id, "attributes": secretAttributes(v)}
	if v.contentType != "" {
		m["contentType"] = v.contentType
	}
	if len(v.tags) > 0 {
		m["tags"] = v.tags
	}
	return m
}

// secretBundle is a version with its value, as get and set return it.
func secretBundle(vault string, v *secretVersion) map[string]any {
	m := secretItem(vault, v, true)
	m["value"] = v.value
	return m
}

func secretNotFound(w http.ResponseWriter, name string) {
	kvError(w, http.StatusNotFound, "SecretNotFound",
		"A secret with (name/id) "+name+" was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")
}

// getSecret answers GET /secrets/{name}/{version}; an empty version is
// the latest.
func (s *Server) getSecret(w http.ResponseWriter, vault, name, version string) {
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	versions := s.state.vaults[vault].secrets[strings.ToLower(name)]
	if len(versions) == 0 {
		secretNotFound(w, name)
		return
	}
	if version == "" {
		writeJSON(w, http.StatusOK, secretBundle(vault, versions[len(versions)-1]))
		return
	}
	for _, v := range versions {
		if strings.EqualFold(v.version, version) {
			writeJSON(w, http.StatusOK, secretBundle(vault, v))
			return
		}
	}
	secretNotFound(w, name+"/"+version)
}

// setSecret answers PUT /secrets/{name}: a new version.
func (s *Server) setSecret(w http.ResponseWriter, r *http.Request, vault, name string) {
	if !validSecretName(name) {
		kvError(w, http.StatusBadRequest, "BadParameter",
			"The request URI contains an invalid name: "+name)
		return
	}
	var body struct {
		Value       *string           `json:"value"`
		ContentType string            `json:"contentType"`
		Tags        map[string]string `json:"tags"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.Value == nil {
		kvError(w, http.StatusBadRequest, "BadParameter", "Property 'value' is required.")
		return
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	v := s.state.vaults[vault]
	key := strings.ToLower(name)
	if prev := v.secrets[key]; len(prev) > 0 {
		name = prev[0].name // Key Vault keeps the name's first spelling
	}
	writeJSON(w, http.StatusOK, secretBundle(vault, v.set(name, *body.Value, body.ContentType, body.Tags)))
}

// listSecrets answers GET /secrets (the latest version of each, by name)
// or, with name, GET /secrets/{name}/versions; paged by maxresults (at
// most 25) with a nextLink on the vault's host and port, as Key Vault
// writes it.
func (s *Server) listSecrets(w http.ResponseWriter, r *http.Request, vault, name string) {
	size := min(s.opts.PageSize, kvPageMax)
	var n int
	if _, err := fmt.Sscan(r.URL.Query().Get("maxresults"), &n); err == nil && n > 0 && n <= kvPageMax {
		size = n
	}
	s.state.mu.Lock()
	v := s.state.vaults[vault]
	var all []map[string]any
	if name == "" {
		for _, k := range slices.Sorted(maps.Keys(v.secrets)) {
			versions := v.secrets[k]
			all = append(all, secretItem(vault, versions[len(versions)-1], false))
		}
	} else {
		for _, sv := range v.secrets[strings.ToLower(name)] {
			all = append(all, secretItem(vault, sv, true))
		}
	}
	s.state.mu.Unlock()
	items, next := page(r, all, size, vaultURL(vault)+":443")
	body := map[string]any{"value": items, "nextLink": nil}
	if items == nil {
		body["value"] = []any{}
	}
	if next != "" {
		body["nextLink"] = next
	}
	writeJSON(w, http.StatusOK, body)
}
