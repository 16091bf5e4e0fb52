// SPDX-License-Identifier: Apache-2.0

// People: OIDC bearer tokens and the claims → roles mapping.

package auth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Binding grants Role to tokens whose Claim holds Value (the claim may be a
// string or a list of strings), e.g. {Claim: "groups", Value:
// "sec-oncall", Role: RoleApprover}.
type Binding struct {
	Claim string
	Value string
	Role  Role
}

// ParseBinding parses "role=claim:value", e.g. "approver=groups:sec-oncall".
func ParseBinding(s string) (Binding, error) {
	role, rest, ok1 := strings.Cut(s, "=")
	claim, value, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || claim == "" || value == "" {
		return Binding{}, fmt.Errorf("auth: binding %q: want role=claim:value", s)
	}
	r := Role(role)
	if !slices.Contains([]Role{RoleAdmin, RoleApprover, RoleAuditor}, r) {
		return Binding{}, fmt.Errorf("auth: binding %q: role must be admin, approver or auditor", s)
	}
	return Binding{Claim: claim, Value: value, Role: r}, nil
}

// OIDCConfig says which tokens people may present.
type OIDCConfig struct {
	// Issuer is the exact iss the tokens carry.
	Issuer string
	// Audience is the aud the tokens must carry (the control plane's
	// client id or app id URI).
	Audience string
	// JWKSURL, when set, is where the signing keys are; otherwise they are
	// found by OIDC discovery at Issuer. Entra ID v1 issuers
	// (https://sts.windows.net/{tid}/) need it.
	JWKSURL string
	// Bindings map claims to roles. A token matching none has no role.
	Bindings []Binding
	// HTTPClient fetches discovery and keys; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// OIDC verifies people's bearer tokens.
type OIDC struct {
	verifier *oidc.IDTokenVerifier
	bindings []Binding
}

// NewOIDC builds a verifier. With OIDCConfig.JWKSURL empty it fetches the
// issuer's discovery document, which ctx bounds.
func NewOIDC(ctx context.Context, c OIDCConfig) (*OIDC, error) {
	if c.Issuer == "" || c.Audience == "" {
		return nil, fmt.Errorf("auth: OIDC needs an issuer and an audience")
	}
	if c.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, c.HTTPClient)
	}
	cfg := &oidc.Config{ClientID: c.Audience, SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256}}
	var v *oidc.IDTokenVerifier
	if c.JWKSURL != "" {
		// The key set keeps ctx to fetch keys later: it must not be a
		// request's context.
		keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), httpClient(c.HTTPClient)), c.JWKSURL)
		v = oidc.NewVerifier(c.Issuer, keys, cfg)
	} else {
		p, err := oidc.NewProvider(ctx, c.Issuer)
		if err != nil {
			return nil, fmt.Errorf("auth: OIDC discovery: %w", err)
		}
		v = p.VerifierContext(oidc.ClientContext(context.Background(), httpClient(c.HTTPClient)), cfg)
	}
	return &OIDC{verifier: v, bindings: slices.Clone(c.Bindings)}, nil
}

func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}

// claims are the claims read from a person's token.
type claims struct {
	Subject           string   `json:"sub"`
	ObjectID          string   `json:"oid"`
	Email             string   `json:"email"`
	PreferredUsername string   `json:"preferred_username"`
	UPN               string   `json:"upn"`
	Groups            []string `json:"groups"`
}

// Verify checks a raw token and returns the person it names.
func (o *OIDC) Verify(ctx context.Context, raw string) (*Caller, error) {
	tok, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var c claims
	if err := tok.Claims(&c); err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	var all map[string]any
	if err := tok.Claims(&all); err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	caller := &Caller{Kind: KindPerson, Subject: tok.Subject, ObjectID: c.ObjectID, Groups: c.Groups}
	for _, n := range []string{c.Email, c.PreferredUsername, c.UPN, tok.Subject} {
		if n != "" {
			caller.Name = n
			break
		}
	}
	for _, b := range o.bindings {
		if claimHas(all[b.Claim], b.Value) && !caller.Has(b.Role) {
			caller.Roles = append(caller.Roles, b.Role)
		}
	}
	return caller, nil
}

func claimHas(v any, want string) bool {
	switch v := v.(type) {
	case string:
		return v == want
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}
