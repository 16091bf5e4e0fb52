// SPDX-License-Identifier: Apache-2.0

// Blob Storage authentication (Entra ID bearer tokens only) and Storage's
// XML error responses.

package azurefake

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// storageAppID is Azure Storage's first-party application ID, an
// audience Storage accepts besides its resource URI.
const storageAppID = "e406a681-f3d4-42a8-90b6-c2b029497af1"

// storageAudiences are the audiences a Blob account accepts: Storage's
// resource (what azblob asks for by default), the account's own endpoint
// (azblob's ClientOptions.Audience), and Storage's app ID.
func storageAudiences(account string) []string {
	ep := "https://" + account + BlobSuffix
	return []string{ResourceStorage, ResourceStorage + "/", ep, ep + "/", storageAppID}
}

// blobAuth verifies the bearer token. Without one, or with a bad one,
// Storage answers 401 with the challenge that azblob's challenge policy
// parses (authorization_uri, resource_id).
func (s *Server) blobAuth(w http.ResponseWriter, r *http.Request, rec *Request, account string) bool {
	raw, ok := bearer(r)
	if !ok && r.Header.Get("Authorization") != "" {
		// Stand-in: Shared Key and other schemes are not verified here.
		rec.AuthError = "AuthenticationFailed"
		blobError(w, r, http.StatusForbidden, "AuthenticationFailed",
			"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
			"<AuthenticationErrorDetail>Only Microsoft Entra ID bearer tokens are accepted by azurefake.</AuthenticationErrorDetail>")
		return false
	}
	if r.URL.Query().Has("sig") {
		rec.AuthError = "AuthenticationFailed"
		blobError(w, r, http.StatusForbidden, "AuthenticationFailed",
			"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
			"<AuthenticationErrorDetail>Shared access signatures are not accepted by azurefake.</AuthenticationErrorDetail>")
		return false
	}
	fail := authMissing
	if ok {
		var claims map[string]any
		if claims, fail = s.verify(raw, storageAudiences(account), s.issuers()); fail == authOK {
			rec.Claims = claims
			return true
		}
	}
	code, detail := "InvalidAuthenticationInfo", ""
	switch fail {
	case authMissing:
		code = "NoAuthenticationInformation"
	case authMalformed:
		detail = "Signature validation failed. The token is malformed."
	case authSignature:
		detail = "Signature validation failed. Signature is invalid."
	case authExpired:
		detail = "Lifetime validation failed. The token is expired."
	case authNotYetValid:
		detail = "Lifetime validation failed. The token is not yet valid."
	case authAudience:
		detail = "Audience validation failed. Audience did not match."
	case authIssuer:
		detail = "Issuer validation failed. Issuer did not match."
	}
	if detail != "" {
		detail = "<AuthenticationErrorDetail>" + detail + "</AuthenticationErrorDetail>"
	}
	rec.AuthError = code
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer authorization_uri=%s/%s/oauth2/authorize resource_id=%s", loginURL, s.opts.TenantID, ResourceStorage))
	blobError(w, r, http.StatusUnauthorized, code,
		"Server failed to authenticate the request. Please refer to the information in the www-authenticate header.", detail)
	return false
}

// xmlEscape escapes element text, keeping line breaks as Storage does.
func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// blobError sends Storage's XML error with the x-ms-error-code header
// (which azcore reads as ResponseError.ErrorCode). extra is XML appended
// after the message; HEAD responses carry the headers only.
func blobError(w http.ResponseWriter, r *http.Request, status int, code, msg, extra string) {
	id := newGUID()
	h := w.Header()
	h.Set("x-ms-error-code", code)
	h.Set("x-ms-request-id", id)
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	text := fmt.Sprintf("%s\nRequestId:%s\nTime:%s", msg, id, time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z"))
	body := `<?xml version="1.0" encoding="utf-8"?><Error><Code>` + code + `</Code><Message>` + xmlEscape(text) + `</Message>` + extra + `</Error>`
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
