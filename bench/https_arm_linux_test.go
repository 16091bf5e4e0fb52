// SPDX-License-Identifier: Apache-2.0

// The request the HTTPS benchmark makes and the upstream's answer to it:
// an ARM resource group list, fixed bytes with Resource Manager's headers.

package bench

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

const (
	// armHost is the name the client asks for and every certificate is
	// for.
	armHost = "management.azure.com"
	// benchSubscription is the subscription of the listed groups.
	benchSubscription = "2f3b1a7e-5d4c-4e8f-9a6b-1c2d3e4f5a6b"
	// listPath is what the client GETs.
	listPath = "/subscriptions/" + benchSubscription + "/resourcegroups?api-version=2021-04-01"
)

// listJSON is the upstream's answer: two resource groups, as ARM lists
// them.
const listJSON = `{"value":[` +
	`{"id":"/subscriptions/` + benchSubscription + `/resourceGroups/rg-agents","name":"rg-agents","type":"Microsoft.Resources/resourceGroups","location":"eastus","tags":{"team":"platform","env":"prod"},"properties":{"provisioningState":"Succeeded"}},` +
	`{"id":"/subscriptions/` + benchSubscription + `/resourceGroups/rg-data","name":"rg-data","type":"Microsoft.Resources/resourceGroups","location":"westeurope","managedBy":"/subscriptions/` + benchSubscription + `/resourceGroups/rg-agents/providers/Microsoft.Databricks/workspaces/ws1","properties":{"provisioningState":"Succeeded"}}` +
	`]}`

// serveARMList answers the list to any GET of it that carries a bearer
// token, and 404 otherwise.
func serveARMList(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.RequestURI() != listPath ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h["Cache-Control"] = []string{"no-cache"}
	h["Pragma"] = []string{"no-cache"}
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["Content-Length"] = []string{strconv.Itoa(len(listJSON))}
	h["Expires"] = []string{"-1"}
	h["X-Ms-Ratelimit-Remaining-Subscription-Reads"] = []string{"11999"}
	h["X-Ms-Request-Id"] = []string{"8c2f4b1e-3a5d-4f6e-9b7c-0d1e2f3a4b5c"}
	h["X-Ms-Correlation-Request-Id"] = []string{"8c2f4b1e-3a5d-4f6e-9b7c-0d1e2f3a4b5c"}
	h["Strict-Transport-Security"] = []string{"max-age=31536000; includeSubDomains"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	_, _ = io.WriteString(w, listJSON)
}

// listRequest is the HTTP/1.1 request the client sends, with token.
func listRequest(token string) []byte {
	return []byte("GET " + listPath + " HTTP/1.1\r\n" +
		"Host: " + armHost + "\r\n" +
		"User-Agent: azsdk-go-armresources/v3.0.0 (go1.26; linux)\r\n" +
		"Accept: application/json\r\n" +
		"Authorization: Bearer " + token + "\r\n" +
		"\r\n")
}
