// SPDX-License-Identifier: Apache-2.0

// Access tokens: the claim sets Entra issues, minting, forging and verifying.

package azurefake

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token audiences (resources) and the federated assertion audience.
const (
	// ResourceARM is the audience of Resource Manager tokens: azcore asks
	// for "https://management.core.windows.net//.default".
	ResourceARM = "https://management.core.windows.net/"
	// ResourceKeyVault is the audience of Key Vault data-plane tokens.
	ResourceKeyVault = "https://vault.azure.net"
	// ResourceStorage is the audience of Storage data-plane tokens.
	ResourceStorage = "https://storage.azure.com"
	// FederatedAudience is the audience Entra expects in federated
	// (workload identity) assertions.
	FederatedAudience = "api://AzureADTokenExchange"
)

// armAudiences are the audiences ARM accepts.
func armAudiences() []string {
	return []string{
		"https://management.core.windows.net/", "https://management.core.windows.net",
		"https://management.azure.com/", "https://management.azure.com",
	}
}

// v1Resource reports whether Entra issues v1.0 tokens for resource (its
// app registration asks for them), as it does for Microsoft's first-party
// APIs. Other resources (api://…) get v2.0 tokens.
func v1Resource(resource string) bool {
	switch strings.TrimSuffix(strings.ToLower(resource), "/") {
	case "https://management.core.windows.net", "https://management.azure.com",
		"https://vault.azure.net", "https://storage.azure.com",
		"https://graph.microsoft.com", "https://ossrdbms-aad.database.windows.net",
		"https://database.windows.net":
		return true
	}
	return false
}

// knownResource reports whether a token may be issued for resource.
func knownResource(resource string) bool {
	return v1Resource(resource) || strings.HasPrefix(resource, "api://")
}

// TokenOptions say what [Server.MintToken] and [Server.ForgeToken] put in
// a token.
type TokenOptions struct {
	// ClientID of a configured client; default the first one. The client
	// need not exist when Claims supplies appid/azp, oid and sub.
	ClientID string
	// Resource is the audience; default [ResourceARM]. Its version
	// (v1.0 or v2.0 claims) follows the resource as Entra's does.
	Resource string
	// Lifetime from now until exp; zero means Options.TokenLifetime, a
	// negative value makes an already expired token.
	Lifetime time.Duration
	// AppIDACR is how the client authenticated: "1" secret (default), "2"
	// certificate or federated assertion.
	AppIDACR string
	// Claims are set last and override the others; a nil value removes
	// the claim.
	Claims map[string]any
}

// IssuerV1 is the issuer of v1.0 tokens (ARM, Key Vault, Storage):
// https://sts.windows.net/{tenant}/.
func (s *Server) IssuerV1() string { return "https://sts.windows.net/" + s.opts.TenantID + "/" }

// issuers are the issuers of the tenant's tokens that resources accept:
// v1.0 tokens are what Entra issues for ARM and Key Vault, but a v2.0
// token of the same tenant is not refused for its issuer.
func (s *Server) issuers() []string { return []string{s.IssuerV1(), s.IssuerV2()} }

// IssuerV2 is the issuer of v2.0 tokens and of the v2.0 OpenID
// configuration: https://login.microsoftonline.com/{tenant}/v2.0.
func (s *Server) IssuerV2() string { return loginURL + "/" + s.opts.TenantID + "/v2.0" }

// JWKSURL is where the token signing keys are published.
func (s *Server) JWKSURL() string { return loginURL + "/" + s.opts.TenantID + "/discovery/v2.0/keys" }

// MintToken returns an access token signed with the server's key, which
// every endpoint of the server accepts if its claims are right.
func (s *Server) MintToken(o TokenOptions) (string, error) {
	tok, err := s.sign(s.signer, s.tokenClaims(o))
	if err != nil {
		return "", fmt.Errorf("azurefake: mint token: %w", err)
	}
	return tok, nil
}

// ForgeToken returns a token with the same header (kid, x5t) and claims as
// [Server.MintToken] would, but signed by a key the server does not trust.
func (s *Server) ForgeToken(o TokenOptions) (string, error) {
	forger, err := s.forgeKey()
	if err != nil {
		return "", fmt.Errorf("azurefake: forge token: %w", err)
	}
	k := *forger
	k.kid = s.signer.kid
	tok, err := s.sign(&k, s.tokenClaims(o))
	if err != nil {
		return "", fmt.Errorf("azurefake: forge token: %w", err)
	}
	return tok, nil
}

// forgeKey returns the untrusted key, made on first use.
func (s *Server) forgeKey() (*signingKey, error) {
	s.forgeMu.Lock()
	defer s.forgeMu.Unlock()
	if s.forger == nil {
		k, err := newSigningKey("forged.accesscontrol.windows.net")
		if err != nil {
			return nil, err
		}
		s.forger = k
	}
	return s.forger, nil
}

// tokenClaims builds the claim set Entra would issue for o.
func (s *Server) tokenClaims(o TokenOptions) jwt.MapClaims {
	if o.ClientID == "" {
		o.ClientID = s.opts.Clients[0].ID
	}
	if o.Resource == "" {
		o.Resource = ResourceARM
	}
	if o.Lifetime == 0 {
		o.Lifetime = s.opts.TokenLifetime
	}
	if o.AppIDACR == "" {
		o.AppIDACR = "1"
	}
	c, _ := s.client(o.ClientID)
	if c.ID == "" {
		c.ID = o.ClientID
	}
	now := time.Now()
	iat := now.Add(-5 * time.Minute) // Entra backdates iat and nbf by five minutes
	m := jwt.MapClaims{
		"aud":   o.Resource,
		"iat":   iat.Unix(),
		"nbf":   iat.Unix(),
		"exp":   now.Add(o.Lifetime).Unix(),
		"aio":   randomB64(48),
		"idtyp": "app",
		"oid":   c.ObjectID,
		"rh":    "0." + randomB64(60) + ".",
		"sub":   c.ObjectID,
		"tid":   s.opts.TenantID,
		"uti":   randomB64(16),
	}
	if v1Resource(o.Resource) {
		m["iss"] = s.IssuerV1()
		m["appid"] = c.ID
		m["appidacr"] = o.AppIDACR
		m["idp"] = s.IssuerV1()
		m["ver"] = "1.0"
	} else {
		m["iss"] = s.IssuerV2()
		m["azp"] = c.ID
		m["azpacr"] = o.AppIDACR
		m["ver"] = "2.0"
	}
	if len(c.Roles) > 0 {
		m["roles"] = append([]string(nil), c.Roles...)
	}
	if len(c.Groups) > 0 {
		m["groups"] = append([]string(nil), c.Groups...)
	}
	for k, v := range o.Claims {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// sign serializes claims as an RS256 JWT with Entra's header.
func (s *Server) sign(k *signingKey, claims jwt.Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.kid
	t.Header["x5t"] = k.kid
	return t.SignedString(k.key)
}

// authFailure says why a bearer token was refused.
type authFailure int

const (
	authOK authFailure = iota
	authMissing
	authMalformed
	authSignature
	authExpired
	authNotYetValid
	authAudience
	authIssuer
)

// String names the failure in the request record.
func (f authFailure) String() string {
	return [...]string{"", "missing", "malformed", "signature", "expired", "not yet valid", "audience", "issuer"}[f]
}

// verify checks raw's signature against the server's keys, then exp, nbf,
// aud (one of audiences) and iss (one of issuers), in that order, as ARM
// does.
func (s *Server) verify(raw string, audiences, issuers []string) (jwt.MapClaims, authFailure) {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range s.keys {
			if k.kid == kid {
				return &k.key.PublicKey, nil
			}
		}
		return nil, errors.New("unknown kid")
	})
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, authMalformed
	case err != nil:
		return claims, authSignature
	}
	now := time.Now()
	if exp, err := claims.GetExpirationTime(); err != nil || exp == nil || !now.Before(exp.Time) {
		return claims, authExpired
	}
	if nbf, err := claims.GetNotBefore(); err != nil || (nbf != nil && now.Before(nbf.Time)) {
		return claims, authNotYetValid
	}
	aud, _ := claims.GetAudience()
	if !anyIn(aud, audiences) {
		return claims, authAudience
	}
	if iss, _ := claims.GetIssuer(); !anyIn([]string{iss}, issuers) {
		return claims, authIssuer
	}
	return claims, authOK
}

// anyIn reports whether some element of got is in want.
func anyIn(got, want []string) bool {
	for _, g := range got {
		for _, w := range want {
			if g == w {
				return true
			}
		}
	}
	return false
}
