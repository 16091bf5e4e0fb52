// SPDX-License-Identifier: Apache-2.0

// The errors the handler answers with: SQLSTATEs and Interlock's codes.

package postgres

import (
	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/policy"
)

// SQLSTATEs of the errors Interlock makes.
const (
	StateInsufficientPrivilege = "42501" // refused by policy
	StateInvalidPassword       = "28P01" // a password or token that does not verify
	StateInvalidAuthorization  = "28000" // a session the policy does not allow to start
	StateConnectionFailure     = "08006" // the upstream failed
	StateProtocolViolation     = "08P01"
	StateFeatureNotSupported   = "0A000"
	StateInternal              = "XX000"
)

// Codes of Interlock's refusals, the start of their messages.
const (
	CodeDisallowed      = "RequestDisallowedByInterlock"
	CodeApprovalPending = "ApprovalPending"
	CodeApprovalDenied  = "ApprovalDenied"
	CodeMaskFailed      = "InterlockMaskingFailed"
)

// refusal is an ErrorResponse of Interlock, severity ERROR.
func refusal(state, code, msg string) *pgwire.ErrorResponse {
	e := pgwire.NewError("ERROR", state, code+": "+msg)
	e.Set(pgwire.FieldHint, "Interlock refused this statement; the message names the policy rule.")
	return e
}

// fatal is a FATAL ErrorResponse that ends the session.
func fatal(state, msg string) *pgwire.ErrorResponse { return pgwire.NewError("FATAL", state, msg) }

// denyMessage is "rule: message" for a deny decision.
func denyMessage(d *policy.Decision) string {
	name := "defaultAction"
	if d.Rule != nil {
		name = d.Rule.Name
	}
	if d.Message == "" {
		return name + ": statement not allowed by policy"
	}
	return name + ": " + d.Message
}
