// SPDX-License-Identifier: Apache-2.0

// Resource groups: list, get, check existence, create or update, and delete
// as a long-running operation.

package azurefake

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// groupJSON is a resource group as ARM returns it.
func (s *Server) groupJSON(g *group) map[string]any {
	state := "Succeeded"
	if g.deleting {
		state = "Deleting"
	}
	m := map[string]any{
		"id":         fmt.Sprintf("/subscriptions/%s/resourceGroups/%s", s.opts.SubscriptionID, g.name),
		"name":       g.name,
		"type":       "Microsoft.Resources/resourceGroups",
		"location":   g.location,
		"properties": map[string]any{"provisioningState": state},
	}
	if len(g.tags) > 0 {
		m["tags"] = g.tags
	}
	return m
}

func groupNotFound(w http.ResponseWriter, name string) {
	armError(w, http.StatusNotFound, "ResourceGroupNotFound", fmt.Sprintf("Resource group '%s' could not be found.", name))
}

// listGroups answers GET /subscriptions/{s}/resourcegroups, paged.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, _ []string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r)
		return
	}
	s.state.mu.Lock()
	keys := slices.Sorted(maps.Keys(s.state.groups))
	all := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		all = append(all, s.groupJSON(s.state.groups[k]))
	}
	s.state.mu.Unlock()
	items, next := page(r, all, s.opts.PageSize, armURL)
	body := map[string]any{"value": items}
	if next != "" {
		body["nextLink"] = next
	}
	writeJSON(w, http.StatusOK, body)
}

// serveGroup answers /subscriptions/{s}/resourcegroups/{name}.
func (s *Server) serveGroup(w http.ResponseWriter, r *http.Request, vars []string) {
	name := vars[1]
	key := strings.ToLower(name)
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[key]
	switch r.Method {
	case http.MethodGet:
		if g == nil {
			groupNotFound(w, name)
			return
		}
		writeJSON(w, http.StatusOK, s.groupJSON(g))
	case http.MethodHead:
		if g == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		var body struct {
			Location string            `json:"location"`
			Tags     map[string]string `json:"tags"`
		}
		if !readJSON(w, r, &body) {
			return
		}
		switch {
		case body.Location == "":
			armError(w, http.StatusBadRequest, "LocationRequired", "The location property is required for this definition.")
		case g != nil && g.deleting:
			armError(w, http.StatusConflict, "ResourceGroupBeingDeleted",
				fmt.Sprintf("The resource group '%s' is in deprovisioning state and cannot perform this operation.", g.name))
		case g != nil && !strings.EqualFold(g.location, body.Location):
			armError(w, http.StatusConflict, "InvalidResourceGroupLocation",
				fmt.Sprintf("Invalid resource group location '%s'. The Resource group already exists in location '%s'.", body.Location, g.location))
		case g != nil:
			g.tags = body.Tags
			writeJSON(w, http.StatusOK, s.groupJSON(g))
		default:
			g = &group{name: name, location: strings.ToLower(strings.ReplaceAll(body.Location, " ", "")), tags: body.Tags}
			st.groups[key] = g
			writeJSON(w, http.StatusCreated, s.groupJSON(g))
		}
	case http.MethodDelete:
		if g == nil {
			groupNotFound(w, name)
			return
		}
		g.deleting = true
		op := st.newOperation(s.opts.LROPolls, func(st *state) {
			delete(st.groups, key)
			for k, a := range st.accounts {
				if strings.EqualFold(a.group, name) {
					delete(st.accounts, k)
				}
			}
		}, nil)
		loc := fmt.Sprintf("%s/subscriptions/%s/operationresults/%s?api-version=%s",
			armURL, s.opts.SubscriptionID, op.id, r.URL.Query().Get("api-version"))
		s.accepted(w, r, op, loc, "Microsoft.Resources", g.location)
	default:
		methodNotAllowed(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed",
		fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method))
}
