// SPDX-License-Identifier: Apache-2.0

// Workload identity federation: Kubernetes service account tokens minted by
// the server's own issuer, and their validation at the token endpoint.

package azurefake

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AssertionOptions say what [Server.FederatedAssertion] puts in a
// Kubernetes service account token.
type AssertionOptions struct {
	// Subject; default "system:serviceaccount:default:default".
	Subject string
	// Issuer; default [Server.FederatedIssuer].
	Issuer string
	// Audience; default [FederatedAudience].
	Audience string
	// Lifetime from now until exp; zero means one hour, a negative value
	// makes an already expired token.
	Lifetime time.Duration
	// Forge signs with a key the issuer does not own.
	Forge bool
}

// FederatedIssuer is the issuer URL of the server's Kubernetes service
// account tokens (nothing is served there).
func (s *Server) FederatedIssuer() string { return s.opts.FederatedIssuer }

// FederatedAssertion returns a Kubernetes service account token, as the
// kubelet projects into a workload-identity pod, for use as a
// client_assertion.
func (s *Server) FederatedAssertion(o AssertionOptions) (string, error) {
	if o.Subject == "" {
		o.Subject = "system:serviceaccount:default:default"
	}
	if o.Issuer == "" {
		o.Issuer = s.opts.FederatedIssuer
	}
	if o.Audience == "" {
		o.Audience = FederatedAudience
	}
	if o.Lifetime == 0 {
		o.Lifetime = time.Hour
	}
	now := time.Now()
	m := jwt.MapClaims{
		"aud": []string{o.Audience},
		"exp": now.Add(o.Lifetime).Unix(),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"iss": o.Issuer,
		"jti": newGUID(),
		"sub": o.Subject,
	}
	if p := strings.Split(o.Subject, ":"); len(p) == 4 && p[0] == "system" && p[1] == "serviceaccount" {
		m["kubernetes.io"] = map[string]any{
			"namespace":      p[2],
			"serviceaccount": map[string]any{"name": p[3], "uid": newGUID()},
		}
	}
	key := s.k8s
	if o.Forge {
		forger, err := s.forgeKey()
		if err != nil {
			return "", fmt.Errorf("azurefake: federated assertion: %w", err)
		}
		k := *forger
		k.kid = s.k8s.kid
		key = &k
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, m)
	t.Header["kid"] = key.kid
	tok, err := t.SignedString(key.key)
	if err != nil {
		return "", fmt.Errorf("azurefake: federated assertion: %w", err)
	}
	return tok, nil
}

// WriteFederatedToken writes a [Server.FederatedAssertion] to path (mode
// 0644, like a projected token), for AZURE_FEDERATED_TOKEN_FILE.
func (s *Server) WriteFederatedToken(path string, o AssertionOptions) error {
	tok, err := s.FederatedAssertion(o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(tok), 0o644); err != nil {
		return fmt.Errorf("azurefake: write federated token: %w", err)
	}
	return nil
}

// assertionFailure is an AADSTS code and description for a refused
// assertion.
type assertionFailure struct {
	code int
	desc string
}

const ficHelp = " Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"

// checkAssertion validates a federated assertion for client as Entra does:
// issuer matched to a federated credential, signature by that issuer's
// key, time range, audience, then subject (case-sensitive).
func (s *Server) checkAssertion(client Client, raw string) *assertionFailure {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &s.k8s.key.PublicKey, nil })
	if errors.Is(err, jwt.ErrTokenMalformed) {
		return &assertionFailure{50027, "JWT token is invalid or malformed."}
	}
	iss, _ := claims.GetIssuer()
	var creds []FederatedCredential
	for _, f := range client.Federated {
		if f.Issuer == iss {
			creds = append(creds, f)
		}
	}
	if len(creds) == 0 {
		return &assertionFailure{700211, "No matching federated identity record found for presented assertion issuer '" + iss + "'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"}
	}
	if err != nil || iss != s.opts.FederatedIssuer {
		return &assertionFailure{700027, "Client assertion failed signature validation."}
	}
	now := time.Now()
	exp, _ := claims.GetExpirationTime()
	nbf, _ := claims.GetNotBefore()
	if exp == nil || !now.Before(exp.Time) || (nbf != nil && now.Before(nbf.Time)) {
		return &assertionFailure{700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, expiry time of assertion %s.",
			now.UTC().Format(time.RFC3339), expString(exp))}
	}
	aud, _ := claims.GetAudience()
	var matched []FederatedCredential
	for _, f := range creds {
		if anyIn(aud, f.Audiences) {
			matched = append(matched, f)
		}
	}
	if len(matched) == 0 {
		return &assertionFailure{700212, "No matching federated identity record found for presented assertion audience '" + strings.Join(aud, ",") + "'." + ficHelp}
	}
	sub, _ := claims.GetSubject()
	if !slices.ContainsFunc(matched, func(f FederatedCredential) bool { return f.Subject == sub }) {
		if slices.ContainsFunc(matched, func(f FederatedCredential) bool { return strings.EqualFold(f.Subject, sub) }) {
			return &assertionFailure{7002138, "No matching federated identity record found for presented assertion subject '" + sub + "'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison." + ficHelp}
		}
		return &assertionFailure{700213, "No matching federated identity record found for presented assertion subject '" + sub + "'." + ficHelp}
	}
	return nil
}

func expString(exp *jwt.NumericDate) string {
	if exp == nil {
		return "(none)"
	}
	return exp.UTC().Format(time.RFC3339)
}
