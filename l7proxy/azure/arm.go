// SPDX-License-Identifier: Apache-2.0

// Resource Manager paths: tenant, subscription and resource-group scopes,
// Microsoft.Resources' own types, and the way into provider paths.

package azure

import "strings"

// Microsoft.Resources, spelled as the RBAC documentation spells it.
const (
	nsResources = "Microsoft.Resources"

	typeSubscriptions = "subscriptions"
	typeResourceGroup = "subscriptions/resourceGroups"
	typeSubProviders  = "subscriptions/providers"

	opTenantsRead       = "Microsoft.Resources/tenants/read"
	opProvidersRead     = "Microsoft.Resources/providers/read"
	opSubscriptionsRead = "Microsoft.Resources/subscriptions/read"
	opSubProvidersRead  = "Microsoft.Resources/subscriptions/providers/read"
	opGroupsRead        = "Microsoft.Resources/subscriptions/resourceGroups/read"
	opGroupsWrite       = "Microsoft.Resources/subscriptions/resourceGroups/write"
	opGroupsDelete      = "Microsoft.Resources/subscriptions/resourceGroups/delete"
)

// groupTypes are the types in front of a resource group's own children.
var groupTypes = [...]string{"subscriptions", "resourceGroups"}

// subscriptionTypes is the type in front of a subscription's children.
var subscriptionTypes = [...]string{"subscriptions"}

// fold reports whether a and b are equal ignoring ASCII case. Unlike
// strings.EqualFold it does not fold Unicode (ſ is not s, K is not k),
// so a keyword matches only what every server reads as that keyword.
func fold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// parseARM names a request to management.azure.com.
func parseARM(op *Operation, verb, raw string, escaped bool) *failure {
	path, f := decodeStrict(raw, escaped)
	if f != nil {
		return f
	}
	var s segments
	if f := split(path, &s); f != nil {
		return f
	}
	segs := s.list()
	if len(segs) == 0 {
		return unknown("empty Resource Manager path")
	}
	for _, seg := range segs {
		if seg == "" {
			return invalid("empty path segment")
		}
	}
	switch {
	case fold(segs[0], "subscriptions"):
		return armSubscription(op, verb, &s)
	case fold(segs[0], "providers"):
		return armTenantProviders(op, verb, &s)
	case fold(segs[0], "tenants") && len(segs) == 1:
		if verb != VerbRead {
			return unknown("tenants is read-only")
		}
		op.ResourceID = s.prefix(1)
		builtin(op, "tenants", "", opTenantsRead)
		return nil
	}
	return unknown("not a Resource Manager path")
}

// builtin sets a Microsoft.Resources read, write or delete whose name is
// a constant.
func builtin(op *Operation, resourceType, name, operation string) {
	op.Provider = nsResources
	op.ResourceType = resourceType
	op.ResourceName = name
	op.Operation = operation
	op.Action = operation[strings.LastIndexByte(operation, '/')+1:]
}

// armTenantProviders: /providers (list the provider registry),
// /providers/{ns} (one provider), and provider paths at the tenant or
// a management group.
func armTenantProviders(op *Operation, verb string, s *segments) *failure {
	segs := s.list()
	switch len(segs) {
	case 1, 2:
		if verb != VerbRead {
			return unknown("the provider registry is read-only")
		}
		name := ""
		if len(segs) == 2 {
			if !validNamespace(segs[1]) {
				return invalid("malformed provider namespace")
			}
			name = segs[1]
		}
		op.ResourceID = s.prefix(len(segs))
		builtin(op, "providers", name, opProvidersRead)
		return nil
	}
	return armProvider(op, verb, s, 0)
}

// armSubscription: /subscriptions[/{id}[/...]].
func armSubscription(op *Operation, verb string, s *segments) *failure {
	segs := s.list()
	n := len(segs)
	if n == 1 {
		if verb != VerbRead {
			return unknown("subscriptions can only be listed here")
		}
		op.ResourceID = s.prefix(1)
		builtin(op, typeSubscriptions, "", opSubscriptionsRead)
		return nil
	}
	if !validSubscription(segs[1]) {
		return invalid("subscription id is not a GUID")
	}
	op.Subscription = segs[1]
	if n == 2 {
		if verb != VerbRead {
			return unknown("a subscription is read-only here")
		}
		op.ResourceID = s.prefix(2)
		builtin(op, typeSubscriptions, segs[1], opSubscriptionsRead)
		return nil
	}
	child := segs[2]
	switch {
	case fold(child, "resourcegroups"):
		return armGroup(op, verb, s)
	case fold(child, "providers"):
		if n <= 4 {
			if verb != VerbRead {
				return unknown("the provider registry is read-only")
			}
			name := ""
			if n == 4 {
				if !validNamespace(segs[3]) {
					return invalid("malformed provider namespace")
				}
				name = segs[3]
			}
			op.Scope, op.ResourceID = s.prefix(2), s.prefix(n)
			builtin(op, typeSubProviders, name, opSubProvidersRead)
			return nil
		}
		return armProvider(op, verb, s, 2)
	}
	rest := segs[2:]
	if !subscriptionChild(verb, rest) {
		return unknown("not a subscription path this package knows")
	}
	op.Scope, op.ResourceID = s.prefix(2), s.prefix(n)
	return walk(op, verb, nsResources, subscriptionTypes[:], rest)
}

// subscriptionChild reports whether rest (after /subscriptions/{id}) is
// one of Microsoft.Resources' subscription children: resources,
// locations, operationresults/{id} (read) and tagNames[/{t}[/tagValues[/{v}]]].
func subscriptionChild(verb string, rest []string) bool {
	switch {
	case len(rest) == 1 && (fold(rest[0], "resources") || fold(rest[0], "locations")):
		return verb == VerbRead
	case len(rest) == 2 && fold(rest[0], "operationresults"):
		return verb == VerbRead
	case fold(rest[0], "tagNames") && len(rest) <= 4:
		return verb != "" && (len(rest) < 3 || fold(rest[2], "tagValues"))
	}
	return false
}

// armGroup: /subscriptions/{s}/resourcegroups[/{rg}[/...]].
func armGroup(op *Operation, verb string, s *segments) *failure {
	segs := s.list()
	n := len(segs)
	op.Scope = s.prefix(2)
	if n == 3 {
		if verb != VerbRead {
			return unknown("resource groups can only be listed here")
		}
		op.ResourceID = s.prefix(3)
		builtin(op, typeResourceGroup, "", opGroupsRead)
		return nil
	}
	if !validName(segs[3]) {
		return invalid("malformed resource group name")
	}
	op.ResourceGroup = segs[3]
	if n == 4 {
		op.ResourceID = s.prefix(4)
		switch verb {
		case VerbRead:
			builtin(op, typeResourceGroup, segs[3], opGroupsRead)
		case VerbWrite:
			builtin(op, typeResourceGroup, segs[3], opGroupsWrite)
		case VerbDelete:
			builtin(op, typeResourceGroup, segs[3], opGroupsDelete)
		default:
			return unknown("POST to a resource group without an action")
		}
		return nil
	}
	if fold(segs[4], "providers") {
		return armProvider(op, verb, s, 4)
	}
	rest := segs[4:]
	switch {
	case verb == "" && len(rest) == 1 && (fold(rest[0], "moveResources") || fold(rest[0], "validateMoveResources")):
		op.Scope, op.ResourceID = s.prefix(2), s.prefix(4)
		if f := walk(op, verb, nsResources, groupTypes[:], rest); f != nil {
			return f
		}
		op.ResourceName = segs[3]
		return nil
	case verb == VerbRead && len(rest) == 1 && fold(rest[0], "resources"),
		fold(rest[0], "deployments"):
		op.Scope, op.ResourceID = s.prefix(4), s.prefix(n-actionSegments(verb))
		return walk(op, verb, nsResources, groupTypes[:], rest)
	}
	return unknown("not a resource group path this package knows")
}

// actionSegments is 1 for a POST, whose last segment names the action,
// else 0.
func actionSegments(verb string) int {
	if verb == "" {
		return 1
	}
	return 0
}
