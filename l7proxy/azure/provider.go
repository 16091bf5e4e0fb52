// SPDX-License-Identifier: Apache-2.0

// Provider paths: {scope}/providers/{namespace}/{type}/{name}/..., with
// extension resources (a role assignment on a storage account) and the
// rule that turns types, method and action into an RBAC action string.

package azure

// armProvider names a path whose segment i is "providers". Extension
// resources repeat /providers/{ns}/... after a resource's name; the
// innermost provider names the operation and what comes before it is the
// Scope.
func armProvider(op *Operation, verb string, s *segments, i int) *failure {
	segs := s.list()
	n := len(segs)
	for {
		if i+1 >= n {
			return unknown("providers without a namespace")
		}
		if !validNamespace(segs[i+1]) {
			return invalid("malformed provider namespace")
		}
		j, next := i+2, -1
		for k := j + 2; k+1 < n; k += 2 {
			if fold(segs[k], "providers") {
				next = k
				break
			}
		}
		if next < 0 {
			break
		}
		if f := checkPairs(segs[j:next]); f != nil {
			return f
		}
		i = next
	}
	op.Scope = s.prefix(i)
	op.ResourceID = s.prefix(n - actionSegments(verb))
	return walk(op, verb, segs[i+1], nil, segs[i+2:])
}

// checkPairs validates alternating type and name segments.
func checkPairs(rest []string) *failure {
	for i, seg := range rest {
		if i%2 == 0 && !validToken(seg) {
			return invalid("malformed resource type")
		}
		if i%2 == 1 && !validName(seg) {
			return invalid("malformed resource name")
		}
	}
	return nil
}

// walk names an operation below namespace ns. rest are the segments after
// the namespace: types at even offsets, names at odd ones; for a POST the
// last segment is the action. prefix are types put in front (the
// Microsoft.Resources built-ins).
//
// The rule is Resource Manager's: the action string is the namespace,
// every type segment of the path (names dropped), then read for GET and
// HEAD, write for PUT and PATCH, delete for DELETE, or {action}/action for
// POST. So POST .../sites/{s}/config/appsettings/list is
// Microsoft.Web/sites/config/list/action, GET
// .../virtualMachines/{vm}/instanceView is
// Microsoft.Compute/virtualMachines/instanceView/read. Exceptions: the
// POST checkNameAvailability actions that RBAC names .../read (postReads).
func walk(op *Operation, verb, ns string, prefix, rest []string) *failure {
	action := verb
	if verb == "" {
		if len(rest) == 0 {
			return unknown("POST without an action segment")
		}
		action = rest[len(rest)-1]
		rest = rest[:len(rest)-1]
		if !validToken(action) {
			return invalid("malformed action")
		}
	}
	if f := checkPairs(rest); f != nil {
		return f
	}
	var buf [MaxSegments/2 + 4]string
	types := append(buf[:0], prefix...)
	for i := 0; i < len(rest); i += 2 {
		types = append(types, rest[i])
	}
	name := ""
	if len(rest) > 0 && len(rest)%2 == 0 {
		name = rest[len(rest)-1]
	}
	if verb == "" && postRead(ns, types, action) {
		types = append(types, action)
		action = VerbRead
	}
	if len(types) == 0 && verb != "" {
		return unknown("path ends at the provider namespace")
	}
	op.Provider = ns
	op.Operation, op.ResourceType = joinOperation(ns, types, action)
	op.ResourceName = name
	op.Action = action
	op.Poll = action == VerbRead && isPoll(types, name != "")
	return nil
}

// postReads are the POST actions that Azure RBAC names .../read, as
// listed in "Azure permissions" (Microsoft.Storage/checknameavailability/read,
// Microsoft.KeyVault/checkNameAvailability/read,
// microsoft.web/checknameavailability/read). Other providers name their
// checkNameAvailability .../action and follow the rule.
var postReads = [...]struct{ ns, parent, action string }{
	{"Microsoft.Storage", "", "checkNameAvailability"},
	{"Microsoft.Storage", "locations", "checkNameAvailability"},
	{"Microsoft.KeyVault", "", "checkNameAvailability"},
	{"Microsoft.Web", "", "checkNameAvailability"},
}

// postRead reports whether POST action on types below ns is named .../read.
func postRead(ns string, types []string, action string) bool {
	for _, r := range postReads {
		if !fold(ns, r.ns) || !fold(action, r.action) {
			continue
		}
		if r.parent == "" && len(types) == 0 || len(types) == 1 && fold(types[0], r.parent) {
			return true
		}
	}
	return false
}

// isPoll reports whether a read of types (named: the path ends with a
// name) reads the status or result of a long-running operation: the last
// type ends in operationStatuses, operationResults or asyncOperations
// (any case; also the singular forms), or is operations named right
// below the namespace or a location (Microsoft.Storage/operations/{id},
// Microsoft.Compute/locations/{l}/operations/{id}). A deployment's
// operations are records, not polls.
func isPoll(types []string, named bool) bool {
	if len(types) == 0 {
		return false
	}
	last := types[len(types)-1]
	for _, sfx := range [...]string{"operationstatuses", "operationresults", "asyncoperations", "operationstatus", "operationresult"} {
		if hasSuffixFold(last, sfx) {
			return true
		}
	}
	if !named || !hasSuffixFold(last, "operations") {
		return false
	}
	return len(types) == 1 || fold(types[len(types)-2], "locations")
}

// validNamespace: letters, digits and dots, with a dot inside
// (Microsoft.Storage, GitHub.Network); at most 64 bytes.
func validNamespace(s string) bool {
	if len(s) < 3 || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dot = true
		case !isLetter(c) && !isDigit(c):
			return false
		}
	}
	return dot
}

// validToken: a resource type or action segment: a letter, then
// letters, digits, '.', '-' or '_'; at most 128 bytes.
func validToken(s string) bool {
	if s == "" || len(s) > 128 || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validName: a resource name after decoding: non-empty, at most 1024
// bytes, without '?' or '#' (decodeStrict already refused '/', '\', '%'
// and control characters).
func validName(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '?' || c == '#' {
			return false
		}
	}
	return true
}

// validSubscription: a GUID, 8-4-4-4-12 hex digits.
func validSubscription(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if unhex(c) < 0 {
			return false
		}
	}
	return true
}
