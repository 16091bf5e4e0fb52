// SPDX-License-Identifier: Apache-2.0

// Package store keeps the control plane's state: enrolled nodes and their
// bootstrap tokens, policy bundles, approvals with their decisions and audit
// records, the sessions index, and uploaded session chunks.
//
// [Open] returns the embedded default: one SQLite file (modernc.org/sqlite,
// no cgo, WAL mode, synchronous=FULL, a busy timeout, migrations versioned
// in code) plus one file per chunk in a directory beside it. The control
// plane consumes it through an interface of its own, so a PostgreSQL +
// Azure Blob backend can take its place: every method is one transaction,
// takes a context, and exchanges protobuf messages or plain values, never
// SQL.
//
// Sharp edges:
//   - A chunk is durable when [DB.PutChunk] returns: its file was written,
//     fsync'd and renamed (and the directory fsync'd) before the index row
//     was committed. A crash between the two leaves a file without a row,
//     which the retried upload overwrites.
//   - Writes are serialised inside one process; another process may open
//     the same directory (WAL lets readers run beside the writer), and waits
//     up to the busy timeout for the write lock.
//   - Whoever calls [Open] must call [DB.Close]. A *DB is safe for
//     concurrent use.
package store
