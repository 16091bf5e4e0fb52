// SPDX-License-Identifier: Apache-2.0

// Entra ID's OAuth error responses.

package azurefake

import (
	"fmt"
	"net/http"
	"time"
)

// entraError sends an OAuth error as Entra does: the AADSTS code leads the
// description, followed by trace and correlation IDs and a timestamp.
// rec, when not nil, records code as the authentication failure.
func (s *Server) entraError(w http.ResponseWriter, rec *Request, status int, code string, aadsts int, desc string) {
	if rec != nil {
		rec.AuthError = code
	}
	trace, corr := newGUID(), newGUID()
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			aadsts, desc, trace, corr, ts),
		"error_codes":    []int{aadsts},
		"timestamp":      ts,
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("%s/error?code=%d", loginURL, aadsts),
	})
}
