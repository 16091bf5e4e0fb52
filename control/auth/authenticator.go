// SPDX-License-Identifier: Apache-2.0

// The authentication and authorization step every call goes through.

package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/control/pki"
)

// Authenticator identifies callers and checks them against the method
// table.
type Authenticator struct {
	// OIDC verifies people's tokens; nil accepts none.
	OIDC *OIDC
	// AdminToken is the local admin credential; "" accepts none.
	AdminToken string
	// KnownNode, when set, is asked whether a node id from a valid
	// certificate is still enrolled; an error refuses the call.
	KnownNode func(ctx context.Context, id string) error
}

// AuthFunc authenticates and authorizes the call in ctx (its method comes
// from grpc.Method) and returns ctx carrying the [Caller]. It has the shape
// of go-grpc-middleware's auth.AuthFunc.
func (a *Authenticator) AuthFunc(ctx context.Context) (context.Context, error) {
	method, _ := grpc.Method(ctx)
	roles, ok := MethodRoles(method)
	if !ok {
		return nil, status.Errorf(codes.PermissionDenied, "method %s has no entry in the role table", method)
	}
	if slices.Contains(roles, Public) {
		return ctx, nil
	}
	c, err := a.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if c.Has(r) {
			return WithCaller(ctx, c), nil
		}
	}
	return nil, status.Errorf(codes.PermissionDenied, "needs role %s; you have %s", joinOr(roles), joinRoles(c.Roles))
}

func joinOr(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

func (a *Authenticator) authenticate(ctx context.Context) (*Caller, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no peer")
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "not a TLS connection")
	}
	if chains := ti.State.VerifiedChains; len(chains) > 0 && len(chains[0]) > 0 {
		id, ok := pki.NodeID(chains[0][0])
		if !ok {
			return nil, status.Error(codes.Unauthenticated, "client certificate is not a node certificate")
		}
		if a.KnownNode != nil {
			if err := a.KnownNode(ctx, id); err != nil {
				return nil, status.Errorf(codes.Unauthenticated, "node %s is not enrolled", id)
			}
		}
		return &Caller{Kind: KindNode, Subject: id, Name: "node:" + id, Node: id, Roles: []Role{RoleNode}}, nil
	}
	tok, err := bearer(ctx)
	if err != nil {
		return nil, err
	}
	if a.AdminToken != "" && strings.HasPrefix(tok, AdminTokenPrefix) {
		got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(a.AdminToken))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			// The local admin is root on this machine. On a single machine it
			// is the only person, so it holds every person's role; separation
			// of duties still holds, since nobody may approve a request made
			// with their own identity, and the agents' are never this one.
			return &Caller{Kind: KindLocalAdmin, Subject: "local-admin", Name: "local-admin", Roles: []Role{RoleAdmin, RoleApprover, RoleAuditor}}, nil
		}
		return nil, status.Error(codes.Unauthenticated, "wrong local admin token")
	}
	if a.OIDC == nil {
		return nil, status.Error(codes.Unauthenticated, "bearer token refused: no OIDC issuer configured")
	}
	c, err := a.OIDC.Verify(ctx, tok)
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "bearer token: %v", err)
	}
	return c, nil
}

func bearer(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return "", status.Error(codes.Unauthenticated, "no credentials: present a node certificate or a bearer token")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || tok == "" {
		return "", status.Error(codes.Unauthenticated, fmt.Sprintf("authorization header: want Bearer, got %q", scheme))
	}
	return tok, nil
}
