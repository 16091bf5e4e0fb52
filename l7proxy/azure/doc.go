// SPDX-License-Identifier: Apache-2.0

// Package azure names the Azure operation an HTTPS request performs, as
// Azure RBAC names it, for the policy engine (policy.ARM) and the
// recorder. Parse takes a request's method, host, encoded path and raw
// query; it knows Resource Manager (management.azure.com and the
// sovereign clouds), the Key Vault data plane ({vault}.vault.azure.net)
// and the Blob data plane ({account}.blob.core.windows.net). It is a
// parser of its own because azcore's arm.ParseResourceID reads an action
// suffix (.../listKeys) as a resource type.
//
// # Resource Manager
//
// Resource Manager authorizes a request with an action string made from
// its URL, and Parse makes the same string:
//
//   - the namespace after the last /providers/ of the path (the innermost
//     one: a role assignment on a storage account is
//     Microsoft.Authorization/roleAssignments/..., its Scope the account);
//   - every type segment after it, names dropped
//     (storageAccounts/{a}/blobServices/default/containers/{c} →
//     storageAccounts/blobServices/containers);
//   - read for GET and HEAD, write for PUT and PATCH, delete for DELETE;
//     for POST the last segment is the action and the string ends in
//     {action}/action (.../storageAccounts/{a}/listKeys →
//     Microsoft.Storage/storageAccounts/listKeys/action;
//     .../sites/{s}/config/appsettings/list →
//     Microsoft.Web/sites/config/list/action; POST
//     /subscriptions/{s}/providers/Microsoft.Compute/register →
//     Microsoft.Compute/register/action).
//
// Exceptions, from the "Azure permissions" pages of the RBAC
// documentation: POST checkNameAvailability is .../read for
// Microsoft.Storage, Microsoft.KeyVault and Microsoft.Web (others list it
// as an action and follow the rule).
//
// Paths without a provider are Microsoft.Resources' own, with the names
// the RBAC documentation gives: /subscriptions and /subscriptions/{s}
// (subscriptions/read), .../resourcegroups[/{rg}]
// (subscriptions/resourceGroups/read|write|delete), POST
// .../resourcegroups/{rg}/moveResources and validateMoveResources,
// .../resourcegroups/{rg}/resources, /subscriptions/{s}/resources,
// locations, tagNames[/{t}/tagValues[/{v}]], operationresults/{id}, the
// provider registry (/providers[/{ns}]: providers/read;
// /subscriptions/{s}/providers[/{ns}]: subscriptions/providers/read),
// /tenants (tenants/read), and the legacy
// .../resourcegroups/{rg}/deployments/... . Deployments at any scope
// (.../providers/Microsoft.Resources/deployments/{d}) follow the rule:
// Microsoft.Resources/deployments/write, .../validate/action,
// .../operationStatuses/read.
//
// Polling: a read whose last type ends in operationStatuses,
// operationResults or asyncOperations, or is operations named right below
// the namespace or a location, sets Operation.Poll. Its name follows the
// rule, e.g. Microsoft.Compute/locations/operations/read,
// Microsoft.Resources/subscriptions/operationresults/read (both in the
// RBAC lists), Microsoft.Storage/operations/read (the Location URL of a
// storage account create; RBAC: "Polls the status of an asynchronous
// operation") and Microsoft.Storage/locations/asyncoperations/read (the
// rule; RBAC lists no name for it). Resource Manager checks polls at the
// subscription or group, not on the resource, so a policy that allows an
// operation should allow its polls, e.g.
//
//	arm.operation.endsWith("/operationstatuses/read") || arm.operation.endsWith("/operations/read")
//
// # Data planes
//
// Key Vault requests get the DataActions of Microsoft.KeyVault: GET
// /secrets/{name}[/{version}] is vaults/secrets/getSecret/action, PUT
// setSecret/action, listing secrets or versions readMetadata/action,
// PATCH update/action; keys are vaults/keys/read, create/action,
// import/action (PUT), encrypt, decrypt, sign, verify, wrap (wrapkey),
// unwrap (unwrapkey), release, rotate, backup, restore, recover, purge;
// rotation policies vaults/keyrotationpolicies/read|write; certificates
// vaults/certificates/...; issuers vaults/certificatecas/...; contacts
// vaults/certificatecontacts/write (the only name RBAC has for them).
// Deleted objects: list and get are the read DataAction (readMetadata for
// secrets), DELETE is purge/action, POST .../recover recover/action.
//
// Blob requests get the names of "Permissions for Blob service
// operations": blobs/read, write, delete, deleteBlobVersion/action
// (DELETE with versionid), permanentDelete/action (deletetype=permanent),
// tags/read|write (comp=tags), filter/action (comp=blobs),
// immutableStorage/runAsSuperUser/action (comp=immutabilityPolicies);
// containers/read|write|delete, getAcl/setAcl actions, list containers
// (containers/read), and blobServices/read|write, getInfo and
// generateUserDelegationKey. Container and service names are Actions
// (DataAction false), blob names DataActions. A single path segment
// without restype is a blob in $root, as Azure reads it.
//
// # Case
//
// Strings keep the case of the request (armresources sends
// /resourcegroups/, armstorage /resourceGroups/ and listKeys), except what
// this package spells itself: Microsoft.Resources' types, the data-plane
// names and the verbs, which have the RBAC documentation's case. The
// policy engine lower-cases what it compares; compare case-insensitively
// elsewhere too.
//
// # Sharp edges
//
//   - An error is never a guess to fall back on: ErrUnknownHost,
//     ErrUnknownOperation and ErrInvalidRequest all mean the request cannot
//     be named, and an enforcing caller must refuse it (fail closed).
//   - Hostile input: at most MaxPathLength bytes of path, MaxSegments
//     segments and MaxQueryLength bytes of query. The path is
//     percent-decoded once. ARM and Key Vault paths that encode '/', '\'
//     or '%', hold control characters, dot or empty segments, or are not
//     UTF-8 are refused, because servers disagree on them; a repeated
//     api-version, comp, restype, versionid or deletetype is refused for
//     the same reason. Subscription ids must be GUIDs.
//   - Blob batch requests (comp=batch) are refused: their sub-requests
//     are in the body, which this package does not read. Copy requests are
//     named by their destination only (the source is a header).
//   - Blob names are decoded with '%2F' as '/', as Azure does; names with
//     a backslash, control characters or empty or dot parts are refused.
//   - Parse allocates at most a few strings per request (the action
//     string, and the decoded path when it has escapes); the Operation's
//     strings share memory with the path given and with each other.
//   - Parse is safe for concurrent use; Operation is a plain value.
package azure
