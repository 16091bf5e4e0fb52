// SPDX-License-Identifier: Apache-2.0

// Storage accounts: list, get, create (long-running), delete, list and
// regenerate keys.

package azurefake

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// validAccountName reports whether name is a valid storage account name:
// 3 to 24 lower-case letters and digits.
func validAccountName(name string) bool {
	if len(name) < 3 || len(name) > 24 {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// accountJSON is a storage account as the Storage resource provider
// returns it.
func (s *Server) accountJSON(a *account) map[string]any {
	state, tier := "Succeeded", "Standard"
	if a.creating {
		state = "Creating"
	}
	if strings.HasPrefix(a.sku, "Premium") {
		tier = "Premium"
	}
	created := a.created.Format(time.RFC3339Nano)
	ep := func(svc string) string { return "https://" + a.name + "." + svc + ".core.windows.net/" }
	return map[string]any{
		"sku":  map[string]any{"name": a.sku, "tier": tier},
		"kind": a.kind,
		"id": fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s",
			s.opts.SubscriptionID, a.group, a.name),
		"name":     a.name,
		"type":     "Microsoft.Storage/storageAccounts",
		"location": a.location,
		"tags":     map[string]any{},
		"properties": map[string]any{
			"keyCreationTime":            map[string]any{"key1": a.keys[0].created.Format(time.RFC3339Nano), "key2": a.keys[1].created.Format(time.RFC3339Nano)},
			"privateEndpointConnections": []any{},
			"minimumTlsVersion":          "TLS1_2",
			"allowBlobPublicAccess":      false,
			"networkAcls": map[string]any{
				"bypass": "AzureServices", "virtualNetworkRules": []any{}, "ipRules": []any{}, "defaultAction": "Allow",
			},
			"supportsHttpsTrafficOnly": true,
			"encryption": map[string]any{
				"services": map[string]any{
					"file": map[string]any{"keyType": "Account", "enabled": true, "lastEnabledTime": created},
					"blob": map[string]any{"keyType": "Account", "enabled": true, "lastEnabledTime": created},
				},
				"keySource": "Microsoft.Storage",
			},
			"accessTier":        "Hot",
			"provisioningState": state,
			"creationTime":      created,
			"primaryEndpoints": map[string]any{
				"dfs": ep("dfs"), "web": a.name + ".z13.web.core.windows.net/", "blob": ep("blob"),
				"queue": ep("queue"), "table": ep("table"), "file": ep("file"),
			},
			"primaryLocation": a.location,
			"statusOfPrimary": "available",
		},
	}
}

// keysJSON is the answer of listKeys and regenerateKey.
func keysJSON(a *account) map[string]any {
	keys := make([]map[string]any, 0, len(a.keys))
	for _, k := range a.keys {
		keys = append(keys, map[string]any{
			"creationTime": k.created.Format(time.RFC3339Nano),
			"keyName":      k.name,
			"value":        k.value,
			"permissions":  "FULL",
		})
	}
	return map[string]any{"keys": keys}
}

// listAccounts answers the subscription-wide and the per-group list.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, vars []string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r)
		return
	}
	st := s.state
	st.mu.Lock()
	if len(vars) > 1 {
		if g := st.groups[strings.ToLower(vars[1])]; g == nil {
			st.mu.Unlock()
			groupNotFound(w, vars[1])
			return
		}
	}
	var all []map[string]any
	for _, k := range slices.Sorted(maps.Keys(st.accounts)) {
		if a := st.accounts[k]; len(vars) == 1 || strings.EqualFold(a.group, vars[1]) {
			all = append(all, s.accountJSON(a))
		}
	}
	st.mu.Unlock()
	items, next := page(r, all, s.opts.PageSize, armURL)
	body := map[string]any{"value": items}
	if items == nil {
		body["value"] = []any{}
	}
	if next != "" {
		body["nextLink"] = next
	}
	writeJSON(w, http.StatusOK, body)
}

// lookupAccount finds the account vars name in group vars[1]; when it is
// missing it answers as ARM does and returns nil. The caller holds st.mu.
func (s *Server) lookupAccount(w http.ResponseWriter, vars []string) *account {
	rg, name := vars[1], vars[2]
	if g := s.state.groups[strings.ToLower(rg)]; g == nil {
		groupNotFound(w, rg)
		return nil
	}
	a := s.state.accounts[strings.ToLower(name)]
	if a == nil || !strings.EqualFold(a.group, rg) {
		armError(w, http.StatusNotFound, "ResourceNotFound",
			fmt.Sprintf("The Resource 'Microsoft.Storage/storageAccounts/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", name, rg))
		return nil
	}
	return a
}

// serveAccount answers .../storageAccounts/{name}: GET, PUT, DELETE.
func (s *Server) serveAccount(w http.ResponseWriter, r *http.Request, vars []string) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		if a := s.lookupAccount(w, vars); a != nil {
			writeJSON(w, http.StatusOK, s.accountJSON(a))
		}
	case http.MethodPut:
		s.createAccount(w, r, vars)
	case http.MethodDelete:
		rg, name := vars[1], vars[2]
		if g := st.groups[strings.ToLower(rg)]; g == nil {
			groupNotFound(w, rg)
			return
		}
		if a := st.accounts[strings.ToLower(name)]; a != nil && strings.EqualFold(a.group, rg) {
			delete(st.accounts, strings.ToLower(name))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, r)
	}
}

// createAccount answers PUT: 202 and a long-running operation for a new
// account, 200 for an existing one. The caller holds st.mu.
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, vars []string) {
	st := s.state
	rg, name := vars[1], vars[2]
	var body struct {
		Location string `json:"location"`
		Kind     string `json:"kind"`
		SKU      struct {
			Name string `json:"name"`
		} `json:"sku"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	g := st.groups[strings.ToLower(rg)]
	existing := st.accounts[strings.ToLower(name)]
	switch {
	case !validAccountName(name):
		armError(w, http.StatusBadRequest, "AccountNameInvalid",
			name+" is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.")
	case g == nil || g.deleting:
		groupNotFound(w, rg)
	case body.Location == "" || body.SKU.Name == "" || body.Kind == "":
		armError(w, http.StatusBadRequest, "InvalidRequestContent",
			"The request content was invalid and could not be deserialized: 'Required property 'location', 'sku' or 'kind' not found in JSON.'.")
	case existing != nil && !strings.EqualFold(existing.group, rg):
		armError(w, http.StatusConflict, "StorageAccountAlreadyTaken", "The storage account named "+name+" is already taken.")
	case existing != nil:
		writeJSON(w, http.StatusOK, s.accountJSON(existing))
	default:
		a := newAccount(g.name, name, strings.ToLower(strings.ReplaceAll(body.Location, " ", "")), body.Kind, body.SKU.Name)
		a.creating = true
		st.accounts[strings.ToLower(name)] = a
		op := st.newOperation(s.opts.LROPolls,
			func(*state) { a.creating = false },
			func(*state) (int, any) { return http.StatusOK, s.accountJSON(a) })
		loc := fmt.Sprintf("%s/subscriptions/%s/providers/Microsoft.Storage/locations/%s/asyncoperations/%s?monitor=true&api-version=%s",
			armURL, s.opts.SubscriptionID, a.location, op.id, r.URL.Query().Get("api-version"))
		s.accepted(w, r, op, loc, "Microsoft.Storage", a.location)
	}
}

// listKeys answers POST .../listKeys.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, vars []string) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r)
		return
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	if a := s.lookupAccount(w, vars); a != nil {
		writeJSON(w, http.StatusOK, keysJSON(a))
	}
}

// regenerateKey answers POST .../regenerateKey {"keyName":"key1"}.
func (s *Server) regenerateKey(w http.ResponseWriter, r *http.Request, vars []string) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r)
		return
	}
	var body struct {
		KeyName string `json:"keyName"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	a := s.lookupAccount(w, vars)
	if a == nil {
		return
	}
	for i := range a.keys {
		if strings.EqualFold(a.keys[i].name, body.KeyName) {
			a.keys[i].value, a.keys[i].created = newAccountKey(), time.Now().UTC()
			writeJSON(w, http.StatusOK, keysJSON(a))
			return
		}
	}
	armError(w, http.StatusBadRequest, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: keyName.")
}
