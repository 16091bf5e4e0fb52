// SPDX-License-Identifier: Apache-2.0

// Package record is what every protocol handler calls to record a session:
// a Recorder opens Sessions, and a Session stamps each event with the
// session id, a gap-free seq, the wall time and the monotonic time since the
// session opened, then hands it to a Sink that makes it durable before Emit
// returns.
//
// Sharp edges:
//   - Emit takes ownership of the event it is given: the recorder sets its
//     session_id, seq, time and since_open, and the sink may keep it. Do not
//     touch an event after passing it in.
//   - An error from Emit (or Open, or Close) means the recording of that
//     session can no longer be trusted: the session is failed, every later
//     Emit returns the same error, and the handler must fail closed (end
//     the connection) rather than carry on unrecorded. Errors wrap the
//     sink's, so errors.Is(err, spool.ErrFull) works.
//   - Only masked content may be recorded. Headers go through a Redactor;
//     bodies through a Body, which keeps masked bytes and hashes the
//     original through two separate writers. Emit refuses (ErrUnredacted)
//     any event whose headers carry a credential header that was not
//     redacted: that is a bug in the handler, never something to record.
//   - Session.Close is idempotent and must be called (defer it): it records
//     SessionClose, and it flushes events whose emitters gave up waiting.
package record
