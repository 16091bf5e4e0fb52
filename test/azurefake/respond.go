// SPDX-License-Identifier: Apache-2.0

// JSON responses shared by every endpoint.

package azurefake

import (
	"encoding/json"
	"net/http"
)

// writeJSON sends v as JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "azurefake: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("x-ms-request-id", newGUID())
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
