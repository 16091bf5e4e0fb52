// SPDX-License-Identifier: Apache-2.0

// Package postgres inspects intercepted PostgreSQL connections to the
// policy's postgres targets: it answers the client's SSLRequest, reads
// the ClientHello and routes by its SNI (else the name given before TLS,
// else the original destination's address), passes non-targets through,
// terminates TLS for targets with a leaf minted for the name, asks the
// agent for a cleartext password over that TLS (a JWT is verified against
// the bundle's issuers), logs in to the original destination over
// verified TLS itself (SCRAM-SHA-256 without channel binding, md5 or
// cleartext; the agent's password, or the node's credential and the
// target's user where the target injects), and then, per statement:
// classifies it (l7proxy/sqlclass), asks the policy, holds it for
// approval, refuses it or forwards it, masks the rows that come back, and
// records every step.
//
// Refusals keep the protocol's order and the server's transaction state:
// a refused statement is replaced upstream by a marker that fails at once
// without running anything (a Query of a syntax error; a Describe of a
// portal that does not exist), and the server's error is replaced by
// Interlock's ErrorResponse (SQLSTATE 42501, "RequestDisallowedByInterlock:
// rule: message") on the way back. The client then sees what a server
// error would give: in a transaction block, the transaction is aborted;
// in the extended protocol, messages up to Sync are discarded.
//
// Sharp edges:
//   - Fail closed: a statement that cannot be classified, a policy that
//     cannot be evaluated, a fast-path FunctionCall, a Bind of a statement
//     not prepared through the handler, a replication connection, a
//     plaintext connection to a target, and a result that cannot be masked
//     as the decision requires (COPY output with a column rule, binary
//     COPY with detectors) are refused; failMode: open lets the first
//     three through, and the recording says so.
//   - Column masks match result column names, case-insensitively: an
//     alias or an expression (SELECT email AS e, upper(email)) is not
//     caught by a column rule. Use detectors for values with a shape, and
//     deny what aliases a masked column if that matters.
//   - A column rule replaces values of text-like types (text, varchar,
//     char, name, json, xml) with "[MASKED]" and values of other types
//     with NULL, in either format; detectors scan text-format values and
//     binary text-like ones.
//   - Extended protocol: Parse is decided (a denied statement fails
//     there), and every Execute again with the bundle in force; approval
//     is asked at Execute. To mask a portal's rows the handler adds a
//     Describe of the portal when the client sent none, and keeps its
//     answer to itself.
//   - Recorded rows are JSON lines of the masked values, up to the
//     RecordCap; the Payload's hash is over the DataRow bodies as they
//     came from the server. Bind parameters are recorded as a JSON array
//     with the bundle's detectors applied.
//   - Reads from the client are bounded by IdleTimeout while no response
//     is owed, and by HandshakeTimeout during the startup phase; reads
//     from the server are not (a statement may run long: the server's
//     statement_timeout bounds it), but the session ends when the client
//     side does. Messages are bounded by MaxMessage.
package postgres
