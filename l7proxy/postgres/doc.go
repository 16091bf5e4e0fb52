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
//   - Column masks match a result column by its name, or by the table
//     column it is a plain reference to (RowDescription's table OID and
//     attribute number), so an alias (SELECT email AS e, through
//     subqueries and CTEs too) is masked. The handler learns which table
//     columns the bundle's column names denote with a catalog query of
//     its own on the session's connection (Parse/Bind/Execute/Sync of
//     "interlock_catalog", not relayed) at the first sync point, and
//     again after this session's CREATE, ALTER, DROP or ROLLBACK; every
//     name in that query is schema-qualified, so the agent's own
//     functions, operators or search_path cannot change its answer, and
//     a lookup that fails leaves the catalog unknown (refused). A
//     result column that is not a plain reference (upper(email),
//     email || '-', a whole-row c::text, count(*)) of a statement that
//     reads a table having a column named by a rule is refused
//     (InterlockMaskingFailed) unless its own name matches a rule: the
//     handler cannot tell what it holds. What remains: a table made by
//     another session after the lookup is not traced (its alias passes);
//     a view's columns are the view's, not its base table's; WHERE
//     clauses can still test masked values (an oracle, not a disclosure
//     of rows). Use detectors for values with a shape, and deny views
//     over masked tables if that matters.
//   - Statements that name an earlier one are decided as that one: EXECUTE
//     n as what SQL-level PREPARE n defined, FETCH or MOVE c as the query
//     DECLARE c ... CURSOR FOR defined (its tables, so the same masks and
//     refusals apply to the rows a FETCH returns). A name not defined on
//     this session is unclassifiable: refused.
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
//     from the server by ResponseTimeout while a response is owed (the
//     server's silence: a statement that sends nothing for longer ends
//     the session, with Interlock's FATAL error to the client and a
//     CancelRequest to the server), not while the session idles.
//     Messages are bounded by MaxMessage.
//   - The upstream SCRAM password is prepared with SASLprep as
//     PostgreSQL prepares it (internal/saslprep), or used as it is when
//     SASLprep refuses it, as libpq does.
package postgres
