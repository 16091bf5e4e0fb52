// SPDX-License-Identifier: Apache-2.0

// Package azurefake is a faithful stand-in for the Azure endpoints that tests
// cannot reach: Entra ID (login.microsoftonline.com), Azure Resource Manager
// (management.azure.com: resource groups and storage accounts), the Key
// Vault data plane ({vault}.vault.azure.net: secrets) and the Blob Storage
// data plane ({account}.blob.core.windows.net: reading seeded blobs).
//
// It serves all of them over HTTPS on one listener and routes by the Host
// header, so an unmodified program using the Azure SDK for Go with
// public-cloud defaults talks to it once a hosts file maps Azure's names to
// [Server.Addr] and SSL_CERT_FILE trusts the [testca.CA] that issued its
// certificate. The wire formats follow /work/shared/AZURE-NOTES.md: what
// azidentity v1.15.0 (MSAL v1.10.1), armresources v3, armstorage v2 and
// azsecrets v1.5.1 send and expect.
//
// Sharp edges:
//   - By default [Start] listens on a random 127.a.b.c address on port 443,
//     which needs root (or CAP_NET_BIND_SERVICE). Unit tests pass
//     Options.Addr = "127.0.0.1:0" and dial [Server.Addr] themselves.
//   - Access tokens are RS256 JWTs signed by keys that live only in this
//     process; they verify against [Server.JWKSURL] and nothing else.
//   - Long-running operations complete only when polled: a delete that is
//     never polled leaves its resource group in the "Deleting" state.
//   - [Server.Requests] records every request, including the claims of the
//     token that reached it, but never a request body: client secrets and
//     assertions sent to the token endpoint are not kept.
//   - It serves HTTP/2 and HTTP/1.1 (ALPN); the Azure SDK for Go picks
//     HTTP/2.
//   - Blob Storage serves only Get Blob (whole or a range) and Get Blob
//     Properties of the blobs in Options.Blobs, with Entra ID bearer
//     tokens (no Shared Key, no SAS, no RBAC data roles: any valid
//     Storage token of the tenant reads every blob). The content is
//     generated while it is sent ([Blob.NewReader]), so a blob of many
//     GiB costs no memory; it is deterministic, so a test knows what a
//     download must yield. No Content-MD5 is sent for whole blobs, as
//     for real block blobs uploaded in blocks.
//   - Federated assertions verify only against the server's own
//     Kubernetes issuer key ([Server.FederatedIssuer]); a federated
//     credential naming another issuer matches but can never validate.
//   - Error codes and messages follow real Azure where known; a few
//     (marked in the code) are stand-ins of the right shape.
//   - Whoever calls [Start] must call [Server.Close]. A Server is safe for
//     concurrent use.
package azurefake
