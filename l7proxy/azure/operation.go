// SPDX-License-Identifier: Apache-2.0

// Operation: what one request to Azure asks for, named as Azure RBAC names
// it, and its conversion to the policy engine's ARM variable.

package azure

import (
	"strings"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// Plane is the Azure API a request went to.
type Plane uint8

const (
	// PlaneARM is Azure Resource Manager (management.azure.com).
	PlaneARM Plane = iota + 1
	// PlaneKeyVault is the Key Vault data plane ({vault}.vault.azure.net).
	PlaneKeyVault
	// PlaneBlob is the Blob data plane ({account}.blob.core.windows.net).
	PlaneBlob
)

// String returns "arm", "keyvault" or "blob".
func (p Plane) String() string {
	switch p {
	case PlaneARM:
		return "arm"
	case PlaneKeyVault:
		return "keyvault"
	case PlaneBlob:
		return "blob"
	}
	return "unknown"
}

// Verbs: the Action of an operation that is not a named action.
const (
	VerbRead   = "read"
	VerbWrite  = "write"
	VerbDelete = "delete"
)

// Operation is one request to Azure, parsed. The strings keep the case of
// the request (armresources sends resourcegroups, armstorage
// resourceGroups), except the parts this package spells itself, which
// have the canonical case of the Azure RBAC documentation:
// Microsoft.Resources and its subscriptions/resourceGroups types, the
// data-plane names, and the verbs. Compare them case-insensitively (the
// policy engine lower-cases them).
//
// The strings share memory with the path given to Parse when it needed no
// decoding, and with each other.
//
// Invariant: Operation == Provider + "/" + ResourceType + "/" + Action
// when Action is a verb (read, write, delete), and with "/action"
// appended otherwise; without the ResourceType part when ResourceType is
// empty (provider-level actions such as Microsoft.Compute/register/action).
type Operation struct {
	Plane Plane
	// Subscription and ResourceGroup are those of the path's scope;
	// empty when the path has none (tenant, management group, data plane).
	Subscription  string
	ResourceGroup string
	// Provider is the namespace of the operation: the innermost provider
	// of the path (Microsoft.Authorization for a role assignment on a
	// storage account), Microsoft.Resources for subscriptions, resource
	// groups and the provider registry.
	Provider string
	// ResourceType is the type below the provider, nested types joined
	// with "/" (storageAccounts/blobServices/containers).
	ResourceType string
	// ResourceName is the name of the innermost resource; empty when the
	// path ends at a type (a list, or an unnamed child such as
	// virtualMachines/{vm}/instanceView) or at the provider.
	ResourceName string
	// Action is read, write or delete, or the name of the action
	// (listKeys, getSecret).
	Action string
	// APIVersion is the api-version query parameter; empty for Blob,
	// whose version travels in the x-ms-version header.
	APIVersion string
	// Operation is the Azure RBAC action (or DataAction) string, e.g.
	// Microsoft.Storage/storageAccounts/listKeys/action.
	Operation string
	// DataAction reports that Operation is an RBAC DataAction (Key Vault
	// and Blob data plane) rather than an Action.
	DataAction bool
	// Poll reports that the request reads the status or result of a
	// long-running operation (an Azure-AsyncOperation or Location URL).
	Poll bool
	// Scope is, for ARM, the decoded path of the scope the resource lives
	// at: "/subscriptions/{s}/resourceGroups/{rg}" for a resource in a
	// group, the parent resource's path for an extension resource such
	// as a role assignment, "" at the tenant.
	Scope string
	// ResourceID is, for ARM, the decoded path up to the innermost
	// resource (or collection) the request addresses, without an action
	// segment.
	ResourceID string
	// Account is the vault (Key Vault) or storage account (Blob) named by
	// the host; empty for ARM.
	Account string
	// Container is the Blob container; empty otherwise.
	Container string
}

// ARM returns the policy engine's view of the operation.
func (op *Operation) ARM() policy.ARM {
	return policy.ARM{
		Subscription:  op.Subscription,
		ResourceGroup: op.ResourceGroup,
		Provider:      op.Provider,
		ResourceType:  op.ResourceType,
		ResourceName:  op.ResourceName,
		Action:        op.Action,
		APIVersion:    op.APIVersion,
		Operation:     op.Operation,
	}
}

// isVerb reports whether an Action is one of the verbs rather than a
// named action.
func isVerb(action string) bool {
	return action == VerbRead || action == VerbWrite || action == VerbDelete
}

// joinOperation builds Provider/types/action[/action] in one allocation
// (a strings.Builder grown to size) and returns it with the types part
// sliced out of it. types are joined with "/".
func joinOperation(provider string, types []string, action string) (op, resourceType string) {
	n := len(provider) + 1 + len(action)
	for _, t := range types {
		n += len(t) + 1
	}
	named := !isVerb(action)
	if named {
		n += len("/action")
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(provider)
	b.WriteByte('/')
	start := b.Len()
	for _, t := range types {
		b.WriteString(t)
		b.WriteByte('/')
	}
	end := b.Len() - 1
	b.WriteString(action)
	if named {
		b.WriteString("/action")
	}
	op = b.String()
	if end > start {
		resourceType = op[start:end]
	}
	return op, resourceType
}
