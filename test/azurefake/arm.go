// SPDX-License-Identifier: Apache-2.0

// Resource Manager: authentication, api-version and routing to handlers.

package azurefake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// armHandler serves one route; vars are the path segments that matched
// "*" in its pattern, the subscription first.
type armHandler func(w http.ResponseWriter, r *http.Request, vars []string)

// armRoute is a path pattern of segments ("*" matches any one segment,
// others match case-insensitively) and its handler.
type armRoute struct {
	pattern []string
	handler armHandler
}

// armRoutes lists every ARM path the server knows.
func (s *Server) armRoutes() []armRoute {
	const sa = "subscriptions/*/resourcegroups/*/providers/microsoft.storage/storageaccounts"
	routes := []struct {
		pattern string
		handler armHandler
	}{
		{"subscriptions/*/resourcegroups", s.listGroups},
		{"subscriptions/*/resourcegroups/*", s.serveGroup},
		{"subscriptions/*/operationresults/*", s.pollLocation},
		{"subscriptions/*/providers/microsoft.storage/locations/*/asyncoperations/*", s.pollLocation},
		{"subscriptions/*/providers/*/locations/*/operationstatuses/*", s.pollAsync},
		{"subscriptions/*/providers/microsoft.storage/storageaccounts", s.listAccounts},
		{sa, s.listAccounts},
		{sa + "/*", s.serveAccount},
		{sa + "/*/listkeys", s.listKeys},
		{sa + "/*/regeneratekey", s.regenerateKey},
	}
	out := make([]armRoute, len(routes))
	for i, r := range routes {
		out[i] = armRoute{pattern: strings.Split(r.pattern, "/"), handler: r.handler}
	}
	return out
}

// match returns the segments of path that matched "*" in pattern.
func match(pattern, path []string) ([]string, bool) {
	if len(pattern) != len(path) {
		return nil, false
	}
	var vars []string
	for i, p := range pattern {
		switch {
		case p == "*":
			vars = append(vars, path[i])
		case !strings.EqualFold(p, path[i]):
			return nil, false
		}
	}
	return vars, true
}

// serveARM answers management.azure.com: token first, then api-version,
// then the subscription, then the route.
func (s *Server) serveARM(w http.ResponseWriter, r *http.Request, rec *Request) {
	w.Header().Set("x-ms-correlation-request-id", newGUID())
	if !s.armAuth(w, r, rec) {
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	path := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for _, route := range s.armRoutes() {
		vars, ok := match(route.pattern, path)
		if !ok {
			continue
		}
		if !strings.EqualFold(vars[0], s.opts.SubscriptionID) {
			armError(w, http.StatusNotFound, "SubscriptionNotFound",
				fmt.Sprintf("The subscription '%s' could not be found.", vars[0]))
			return
		}
		route.handler(w, r, vars)
		return
	}
	armError(w, http.StatusNotFound, "NotFound",
		fmt.Sprintf("No HTTP resource was found that matches the request URI '%s%s'.", armURL, r.URL.RequestURI()))
}

// armAuth verifies the bearer token; on failure it answers as ARM does
// (401, WWW-Authenticate, error code) and returns false.
func (s *Server) armAuth(w http.ResponseWriter, r *http.Request, rec *Request) bool {
	raw, ok := bearer(r)
	fail := authMissing
	var claims map[string]any
	if ok {
		claims, fail = s.verify(raw, armAudiences(), s.issuers())
	}
	if fail == authOK {
		rec.Claims = claims
		return true
	}
	authority := "https://login.windows.net/"
	var code, msg, desc string
	switch fail {
	case authMissing:
		code, msg = "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
		desc = "The authentication failed because of missing 'Authorization' header."
	case authMalformed:
		code, msg = "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format."
		desc = "The access token is invalid."
	case authSignature:
		code, msg, desc = "InvalidAuthenticationToken", "The access token is invalid.", "The access token is invalid."
	case authExpired:
		exp, _ := claims["exp"].(float64)
		code = "ExpiredAuthenticationToken"
		msg = fmt.Sprintf("The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			time.Unix(int64(exp), 0).UTC().Format(dotnetTime), time.Now().UTC().Format(dotnetTime))
		desc = "The access token has expired."
	case authNotYetValid:
		code, msg, desc = "InvalidAuthenticationToken", "The access token is not yet valid.", "The access token is not yet valid."
	case authAudience:
		aud, _ := claims["aud"].(string)
		code = "InvalidAuthenticationTokenAudience"
		msg = fmt.Sprintf("The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences '%s'.",
			aud, strings.Join(armAudiences(), "','"))
		desc = "The access token has been obtained from wrong audience or resource '" + aud + "'."
	case authIssuer:
		iss, _ := claims["iss"].(string)
		authority += s.opts.TenantID
		code = "InvalidAuthenticationTokenTenant"
		msg = fmt.Sprintf("The access token is from the wrong issuer '%s'. It must match the tenant '%s' associated with this subscription. Please use the authority (URL) '%s' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
			iss, s.IssuerV1(), authority)
		desc = "The access token is from the wrong issuer. It must match the tenant associated with this subscription. Please use correct authority to get the token."
	}
	rec.AuthError = code
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s", error="invalid_token", error_description="%s"`, authority, desc))
	armError(w, http.StatusUnauthorized, code, msg)
	return false
}

// dotnetTime is how ARM's messages print times (.NET's invariant "G").
const dotnetTime = "1/2/2006 3:04:05 PM"

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// armError sends {"error":{"code":…,"message":…}}.
func armError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// readJSON decodes a request body into v; on failure it answers
// InvalidRequestContent and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		armError(w, http.StatusBadRequest, "InvalidRequestContent",
			"The request content was invalid and could not be deserialized: '"+err.Error()+"'.")
		return false
	}
	return true
}
