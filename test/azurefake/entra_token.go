// SPDX-License-Identifier: Apache-2.0

// The token endpoint: client credentials with a secret or a federated
// assertion.

package azurefake

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// assertionType is the only client_assertion_type Entra accepts.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// serveToken answers POST /{tenant}/oauth2/v2.0/token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, rec *Request, tenant string) {
	if r.Method != http.MethodPost {
		s.entraError(w, rec, http.StatusBadRequest, "invalid_request", 900561,
			"The endpoint only accepts POST, OPTIONS requests. Received a "+r.Method+" request.")
		return
	}
	if !s.knownTenant(tenant, false) {
		s.entraError(w, rec, http.StatusBadRequest, "invalid_request", 90002,
			"Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.entraError(w, rec, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'grant_type'.")
		return
	}
	f := r.PostForm
	rec.ClientID, rec.Scope = f.Get("client_id"), f.Get("scope")
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		s.entraError(w, rec, http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '"+gt+"'.")
		return
	}
	if rec.ClientID == "" {
		s.entraError(w, rec, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'client_id'.")
		return
	}
	client, ok := s.client(rec.ClientID)
	if !ok {
		s.entraError(w, rec, http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '"+rec.ClientID+"' was not found in the directory '"+s.opts.TenantID+
				"'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
		return
	}
	resource, ok := scopeResource(rec.Scope)
	if !ok {
		s.entraError(w, rec, http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope "+rec.Scope+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	if !knownResource(resource) {
		s.entraError(w, rec, http.StatusBadRequest, "invalid_resource", 500011,
			"The resource principal named "+resource+" was not found in the tenant named "+s.opts.TenantID+
				". This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.")
		return
	}
	acr := ""
	switch {
	case f.Get("client_secret") != "":
		rec.Credential = "secret"
		if client.Secret == "" || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(f.Get("client_secret"))) != 1 {
			s.entraError(w, rec, http.StatusUnauthorized, "invalid_client", 7000215,
				"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+client.ID+"'.")
			return
		}
		acr = "1"
	case f.Get("client_assertion") != "":
		rec.Credential = "assertion"
		if f.Get("client_assertion_type") != assertionType {
			s.entraError(w, rec, http.StatusBadRequest, "invalid_request", 50027,
				"JWT token is invalid or malformed. client_assertion_type must be '"+assertionType+"'.")
			return
		}
		if fail := s.checkAssertion(client, f.Get("client_assertion")); fail != nil {
			s.entraError(w, rec, http.StatusUnauthorized, "invalid_client", fail.code, fail.desc)
			return
		}
		acr = "2"
	default:
		s.entraError(w, rec, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	extra := map[string]any{}
	if claims := f.Get("claims"); claims != "" {
		cp, err := clientCapabilities(claims)
		if err != nil { // the AADSTS code here is a stand-in, not checked against Entra
			s.entraError(w, rec, http.StatusBadRequest, "invalid_request", 90014,
				"The claims parameter is not valid JSON.")
			return
		}
		if len(cp) > 0 {
			extra["xms_cc"] = cp
		}
	}
	tok, err := s.sign(s.signer, s.tokenClaims(TokenOptions{ClientID: client.ID, Resource: resource, AppIDACR: acr, Claims: extra}))
	if err != nil {
		http.Error(w, "azurefake: sign token: "+err.Error(), http.StatusInternalServerError)
		return
	}
	expiresIn := int(s.opts.TokenLifetime/time.Second) - 1
	resp := map[string]any{
		"token_type":     "Bearer",
		"expires_in":     expiresIn,
		"ext_expires_in": expiresIn,
		"access_token":   tok,
	}
	if expiresIn >= 2*60*60 {
		resp["refresh_in"] = expiresIn / 2
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// scopeResource finds the one "{resource}/.default" scope among the
// space-separated scopes (MSAL adds openid, offline_access and profile)
// and returns the resource: "https://management.core.windows.net//.default"
// gives "https://management.core.windows.net/".
func scopeResource(scope string) (string, bool) {
	resource := ""
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "offline_access", "profile", "email":
			continue
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok || r == "" || resource != "" {
			return "", false
		}
		resource = r
	}
	return resource, resource != ""
}

// clientCapabilities returns the access_token.xms_cc values of an OIDC
// claims request, such as MSAL's CAE {"access_token":{"xms_cc":{"values":["CP1"]}}}.
func clientCapabilities(claims string) ([]string, error) {
	var req map[string]map[string]struct {
		Values []string `json:"values"`
	}
	if err := json.Unmarshal([]byte(claims), &req); err != nil {
		return nil, err
	}
	return req["access_token"]["xms_cc"].Values, nil
}
