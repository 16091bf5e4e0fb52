// SPDX-License-Identifier: Apache-2.0

// Config: what the handler is given. The component interfaces are the
// HTTPS handler's, so that a node wires one verifier, one credential
// source, one approver and one observer for both.

package postgres

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/https"
	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
)

// Defaults of Config's limits.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultResponseTimeout  = 10 * time.Minute
	DefaultMaxMessage       = 64 << 20
	DefaultRecordCap        = 64 << 10
)

// The components shared with the HTTPS handler.
type (
	// Identifier verifies a token (here: a password that is a JWT)
	// against the bundle's issuers; https.Verifiers makes one.
	Identifier = https.Identifier
	// CredentialSource returns the node's own token for a target whose
	// credential mode is inject (for Azure Database for PostgreSQL, an
	// Entra ID token for identity.ScopePostgres).
	CredentialSource = https.CredentialSource
	// Approver holds a statement for approval, at most the rule's hold.
	Approver = https.Approver
	// ApprovalRequest and ApprovalResult are what an Approver takes and
	// gives.
	ApprovalRequest = https.ApprovalRequest
	ApprovalResult  = https.ApprovalResult
	// Observer counts decisions, masks, latency and approval waits.
	Observer = https.Observer
)

// Config configures a Handler. It must not change once in use.
type Config struct {
	// Node names this node in recordings.
	Node string
	// Policy returns the bundle in force; required. A session keeps the
	// bundle it started with for routing and credentials, and asks
	// Policy again for every statement's decision.
	Policy func() *policy.Bundle
	// ServerTLS terminates the workloads' TLS: its GetCertificate mints a
	// leaf for the SNI (tlsterm.Minter.ServerConfig). Required. Its
	// NextProtos are replaced by "postgresql".
	ServerTLS *tls.Config
	// UpstreamTLS returns the client TLS configuration that verifies the
	// original server for serverName; required. Its NextProtos are
	// replaced by "postgresql".
	UpstreamTLS func(serverName string) *tls.Config
	// Identify verifies passwords that are JWTs when the bundle trusts
	// issuers; nil refuses such passwords (fail closed).
	Identify Identifier
	// Credentials gives the node's password (a token) for inject targets;
	// nil refuses sessions to them.
	Credentials CredentialSource
	// MaskPool provides the buffers of the maskers; nil allocates.
	MaskPool *mask.Pool
	// Approvals holds statements for approval; nil refuses statements
	// that need one.
	Approvals Approver
	// Recorder records sessions; required.
	Recorder *record.Recorder
	// Passthrough serves connections to non-targets; nil means a plain
	// l7proxy.Passthrough to the original destination. For a client that
	// sent SSLRequest, the Dialer it is given returns the connection the
	// handler already opened (the server having answered 'S'), and
	// c.Peeked holds the ClientHello to write to it first.
	Passthrough func(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer)
	// HandshakeTimeout bounds each read of the startup phase and each TLS
	// handshake; IdleTimeout bounds a client's silence when no statement
	// is running. Zero means the defaults.
	HandshakeTimeout, IdleTimeout time.Duration
	// ResponseTimeout bounds the server's silence while it owes a
	// response: from a message sent upstream to the first message of
	// its answer, and between the messages of an answer. It does not
	// apply while the session idles between statements. A statement
	// that runs longer than this without sending anything (a long sort,
	// pg_sleep) ends the session, so set it above the server's
	// statement_timeout. Zero means DefaultResponseTimeout; negative, no
	// bound. When it fires the client gets a FATAL ErrorResponse (08006)
	// naming Interlock and the timeout, the server a CancelRequest for
	// what it was running, and the session ends.
	ResponseTimeout time.Duration
	// MaxMessage bounds each protocol message; zero means
	// DefaultMaxMessage. A longer one ends the session with an error.
	MaxMessage int
	// RecordCap bounds the masked bytes recorded per result and per
	// statement's parameters; zero means DefaultRecordCap.
	RecordCap int
	// Observer counts for metrics; nil counts nothing.
	Observer Observer
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}
