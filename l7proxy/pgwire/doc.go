// SPDX-License-Identifier: Apache-2.0

// Package pgwire reads and writes the messages of the PostgreSQL frontend/
// backend protocol, version 3 (https://www.postgresql.org/docs/current/
// protocol-message-formats.html), in both directions: what a client sends
// (startup packet, SSLRequest, GSSENCRequest, CancelRequest, Query, the
// extended protocol, passwords and SASL, COPY) and what a server answers
// (Authentication*, ParameterStatus, BackendKeyData, ReadyForQuery,
// RowDescription, DataRow, CommandComplete, ErrorResponse, ...).
//
// A Reader splits a byte stream into messages; each message type has a
// Decode(body) method that fills a reused value and an Encode(dst) method
// that appends the whole message (type byte and length included) to dst.
// DecodeFrontend, DecodeBackend and DecodeStartup decode any message into
// a new value.
//
// Sharp edges:
//   - A Reader refuses a message longer than its limit (a *TooLargeError)
//     before reading its body, and grows its buffer only as bytes arrive:
//     a peer that declares a huge length costs no memory until it sends it.
//   - The body a Reader returns is valid until its next call. Decoded
//     values may point into it: DataRow.Values and the byte slices of
//     CopyData, PasswordMessage, SASL and Bind parameters do; strings are
//     copied.
//   - A Reader does not set deadlines: the caller sets them on the
//     connection before each read (net.Conn.SetReadDeadline).
//   - Several type bytes mean different messages in each direction ('C' is
//     Close from a client and CommandComplete from a server; 'p' is any of
//     PasswordMessage, SASLInitialResponse and SASLResponse, told apart only
//     by the authentication exchange in progress).
//   - Readers and message values are not safe for concurrent use.
package pgwire
