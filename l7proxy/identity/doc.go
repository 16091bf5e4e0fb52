// SPDX-License-Identifier: Apache-2.0

// Package identity answers two questions about credentials at the proxy:
// who is this agent (a [Verifier] checks its bearer token against the
// policy's trusted issuers and returns an [Identity] shaped for
// policy.Identity), and which token goes upstream instead when the policy
// says credential: inject (a [TokenSource], [AzureTokenSource] over
// azidentity, and [ScopeForHost]).
//
// Verification: the token's iss picks the issuer (ErrUnknownIssuer if the
// policy trusts none such); go-oidc (oidc.NewVerifier) checks the
// signature (RS256; ES256 for other OIDC issuers), algorithm and issuer
// against the issuer's JWKS; then exp and nbf with a small skew
// (DefaultSkew) and the audience. Each failure has its own reason
// (ErrMissing, ErrMalformed, ErrSignature, ErrExpired, ErrNotYetValid,
// ErrAudience, ErrKeysUnavailable), and [ARMError] turns it into the 401
// that Resource Manager would answer (or a 503 when the keys cannot be
// fetched: fail closed, but not the client's fault).
//
// Keys: an issuer's JWKS URL is the policy's jwksUrl, else, for Entra ID's
// public-cloud issuers (v1.0 https://sts.windows.net/{tid}/ and v2.0
// https://login.microsoftonline.com/{tid}/v2.0), the tenant's
// https://login.microsoftonline.com/{tid}/discovery/v2.0/keys, else the
// jwks_uri of the issuer's OpenID configuration. The v1.0 issuer has no
// discovery document under its own URL (see AZURE-NOTES), which is why the
// keys are derived and the verifier is built with oidc.NewVerifier rather
// than oidc.NewProvider.
//
// Sharp edges:
//   - Keys are fetched on first use, not by NewVerifier, and kept in a key
//     set of this package rather than go-oidc's RemoteKeySet: RemoteKeySet
//     refetches the JWKS for every token whose signature fails, so each
//     forged token would cost a round trip to Entra ID. Here a token whose
//     kid is known is checked against that key only; an unknown kid (a
//     rotation) refetches at most once per MinRefresh; the set is
//     refetched when older than MaxKeyAge. A failed fetch keeps the old
//     keys.
//   - Verified tokens are cached by SHA-256 (never the token itself) for
//     CacheTTL, and never past their exp; a signing key withdrawn from the
//     JWKS still accepts the tokens it signed until their cache entry
//     ends. An Identity from the cache is shared: do not modify it.
//   - Audiences compare exactly: https://management.core.windows.net/ (the
//     aud of real ARM tokens) is not https://management.core.windows.net.
//   - Groups are what the token carries: when Entra leaves them out for
//     overage (_claim_names, hasgroups), Groups is empty; nothing queries
//     Microsoft Graph.
//   - A Verifier belongs to one policy bundle: make a new one when the
//     bundle changes (its keys are then fetched again).
//   - Token caching: azidentity's credentials cache tokens in memory too
//     (MSAL, per credential instance; a test verifies one token request
//     for repeated GetToken calls), but treat a token expiring within 5
//     minutes as stale. AzureTokenSource keeps its own cache per scope so
//     that the proxy's hot path does not enter MSAL, and knows each
//     token's expiry. Managed identity calls the instance metadata
//     endpoint (169.254.169.254), which tests never reach: it is built but
//     not exercised there.
//   - Tokens are secrets: nothing here logs them, and errors never hold
//     them.
package identity
