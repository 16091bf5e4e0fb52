// SPDX-License-Identifier: Apache-2.0

// Config: what the handler is given, and the small interfaces of the
// components it calls.

package https

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Defaults of Config's limits.
const (
	DefaultPeekTimeout      = 10 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultRecordCap        = 64 << 10
	DefaultIdleTimeout      = 5 * time.Minute
)

// Identifier verifies a bearer token against the bundle's trusted issuers
// and returns who it proves. A token that does not verify is an *AuthError.
type Identifier func(ctx context.Context, b *policy.Bundle, token string) (policy.Identity, error)

// AuthError is a refused credential: the workload gets 401 with Code in
// ARM's error format (InvalidAuthenticationToken,
// ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience,
// AuthenticationFailed).
type AuthError struct {
	// Status is the HTTP status to answer; zero means 401. The keys to
	// check tokens with being unreachable is 503: the token may be fine.
	Status  int
	Code    string
	Message string
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Message }

// CredentialSource returns the node's own bearer token for host, for a
// target whose credential mode is inject.
type CredentialSource func(ctx context.Context, t *policy.Target, host string) (string, error)

// OperationFunc names the Azure operation of a request. An error means the
// request is not one it knows; the policy then sees no arm fields.
type OperationFunc func(method, host, path, rawQuery string) (policy.ARM, error)

// MaskFunc copies a response body from src to dst with the decision's
// masks and detectors applied, and says what it replaced. contentType and
// contentEncoding are the response's; the output is never encoded. An
// error means the body could not be masked as required: the caller fails
// closed.
type MaskFunc func(dst io.Writer, src io.Reader, contentType, contentEncoding string, d *policy.Decision) ([]*interlockv1.MaskApplied, error)

// Approver asks people to approve a request and waits for them, at most
// the rule's hold.
type Approver interface {
	Approve(ctx context.Context, req ApprovalRequest) (ApprovalResult, error)
}

// ApprovalRequest is a request held for approval.
type ApprovalRequest struct {
	Identity    policy.Identity
	Workload    l7proxy.Workload
	Target      string
	Operation   string
	Summary     string
	Rule        string
	Fingerprint []byte
	Reason      string
	Approval    *policy.Approval
	SessionID   string
	ExchangeID  uint64
}

// ApprovalResult is where an approval stands when the hold ends.
type ApprovalResult struct {
	ID        string
	State     interlockv1.ApprovalState
	Approvers []string
	Comment   string
	// GrantUsed says an earlier approval's grant let the request through.
	GrantUsed bool
}

// Observer receives what a node's metrics count. Every method must be
// cheap and safe for concurrent use.
type Observer interface {
	// Decision is called once per request with the target, the final
	// outcome (allow, deny, approve) and the deciding rule ("" for the
	// default action or a refusal before policy).
	Decision(target, outcome, rule string)
	// Masked is called with the values a response had masked, per
	// detector or JSON path rule.
	Masked(applied []*interlockv1.MaskApplied)
	// Latency is called per answered request: time upstream and time
	// added by the proxy (approval holds excluded).
	Latency(target string, upstream, added time.Duration)
	// ApprovalWait is called with how long a request was held and how
	// the approval stood when the hold ended.
	ApprovalWait(state interlockv1.ApprovalState, held time.Duration)
	// Closed is called once per inspected connection, when its session
	// closes, with the bytes it carried each way.
	Closed(target, workload string, fromClient, toClient int64)
}

// NopObserver counts nothing.
type NopObserver struct{}

func (NopObserver) Decision(string, string, string)                       {}
func (NopObserver) Masked([]*interlockv1.MaskApplied)                     {}
func (NopObserver) Latency(string, time.Duration, time.Duration)          {}
func (NopObserver) ApprovalWait(interlockv1.ApprovalState, time.Duration) {}
func (NopObserver) Closed(string, string, int64, int64)                   {}

// Config configures a Handler. It must not change once in use.
type Config struct {
	// Node names this node in recordings.
	Node string
	// Policy returns the bundle in force; required.
	Policy func() *policy.Bundle
	// ServerTLS terminates the workloads' TLS: its GetCertificate mints a
	// leaf for the SNI (tlsterm.Minter.ServerConfig). Required.
	ServerTLS *tls.Config
	// UpstreamTLS returns the client TLS configuration for the original
	// server: it verifies the certificate for serverName. Required.
	UpstreamTLS func(serverName string) *tls.Config
	// Identify verifies bearer tokens; required.
	Identify Identifier
	// Credentials gives the node's token for inject targets; nil refuses
	// requests to them.
	Credentials CredentialSource
	// Operation names Azure operations; nil leaves arm empty.
	Operation OperationFunc
	// Mask masks response bodies; nil refuses responses that a mask rule
	// or detector applies to.
	Mask MaskFunc
	// Approvals holds requests for approval; nil refuses requests that
	// need one.
	Approvals Approver
	// Recorder records sessions; required.
	Recorder *record.Recorder
	// Redactor redacts recorded headers; nil means record.NewRedactor().
	Redactor *record.Redactor
	// Passthrough serves connections to non-targets; required.
	Passthrough func(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer)
	// RecordCap bounds the masked body bytes recorded per message; zero
	// means DefaultRecordCap.
	RecordCap int
	// PeekTimeout and HandshakeTimeout bound the ClientHello and the TLS
	// handshake; zero means the defaults.
	PeekTimeout, HandshakeTimeout time.Duration
	// Observer counts for metrics; nil counts nothing.
	Observer Observer
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}
