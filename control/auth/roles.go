// SPDX-License-Identifier: Apache-2.0

// Roles, callers, and the method → roles table.

package auth

import (
	"context"
	"slices"
	"strings"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Role is what a caller may do.
type Role string

// The roles of the control API.
const (
	RoleAdmin    Role = "admin"
	RoleApprover Role = "approver"
	RoleAuditor  Role = "auditor"
	RoleNode     Role = "node"
)

// Kind says how a caller authenticated.
type Kind int

// Kinds of callers.
const (
	KindNode       Kind = iota + 1 // mTLS with a node client certificate
	KindPerson                     // OIDC bearer token
	KindLocalAdmin                 // the local admin credential file
)

// Caller is an authenticated caller.
type Caller struct {
	Kind Kind
	// Subject is the stable id: the node id, the token's sub, or
	// "local-admin".
	Subject string
	// ObjectID is the token's oid claim (Entra ID), if any.
	ObjectID string
	// Name is a display name: email, preferred_username or upn, else Subject.
	Name   string
	Groups []string
	Roles  []Role
	// Node is the node id for KindNode.
	Node string
}

// Has reports whether the caller has role r.
func (c *Caller) Has(r Role) bool { return slices.Contains(c.Roles, r) }

// IDs returns every non-empty identifier of the caller, for comparisons
// with a requester's identity.
func (c *Caller) IDs() []string {
	var out []string
	for _, s := range []string{c.Subject, c.ObjectID} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// FromContext returns the caller the interceptor put in ctx.
func FromContext(ctx context.Context) (*Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	return c, ok
}

// Public marks a method that needs no authentication (Enroll: the
// bootstrap token is its credential).
const Public Role = "public"

// methodRoles is the table every call is checked against. Read-only.
var methodRoles = map[string][]Role{
	interlockv1.NodeService_Enroll_FullMethodName: {Public},
	interlockv1.NodeService_List_FullMethodName:   {RoleAdmin},

	interlockv1.PolicyService_Push_FullMethodName:  {RoleAdmin},
	interlockv1.PolicyService_Get_FullMethodName:   {RoleAdmin, RoleAuditor},
	interlockv1.PolicyService_Watch_FullMethodName: {RoleNode},

	interlockv1.ApprovalService_Request_FullMethodName: {RoleNode},
	interlockv1.ApprovalService_Get_FullMethodName:     {RoleNode, RoleApprover, RoleAuditor},
	interlockv1.ApprovalService_List_FullMethodName:    {RoleApprover, RoleAuditor},
	interlockv1.ApprovalService_Decide_FullMethodName:  {RoleApprover},
	interlockv1.ApprovalService_Watch_FullMethodName:   {RoleNode, RoleApprover},

	interlockv1.SessionService_Upload_FullMethodName: {RoleNode},
	interlockv1.SessionService_Resume_FullMethodName: {RoleNode},

	interlockv1.AuditService_ListSessions_FullMethodName:   {RoleAuditor, RoleAdmin},
	interlockv1.AuditService_GetSession_FullMethodName:     {RoleAuditor, RoleAdmin},
	interlockv1.AuditService_ReadSession_FullMethodName:    {RoleAuditor, RoleAdmin},
	interlockv1.AuditService_GetCheckpoint_FullMethodName:  {RoleAuditor, RoleAdmin},
	interlockv1.AuditService_ExportEvidence_FullMethodName: {RoleAuditor, RoleAdmin},

	interlockv1.AuditService_GetConsistencyProof_FullMethodName: {RoleAuditor, RoleAdmin},
}

// MethodRoles returns the roles that may call a full method name
// ("/interlock.v1.PolicyService/Push"), [Public] for Enroll, and false for
// a method without an entry.
func MethodRoles(fullMethod string) ([]Role, bool) {
	r, ok := methodRoles[fullMethod]
	return slices.Clone(r), ok
}

func joinRoles(rs []Role) string {
	if len(rs) == 0 {
		return "no role"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
