// SPDX-License-Identifier: Apache-2.0

// Package spool is the node's durable, append-only on-disk log of session
// events, and the record.Sink the recorder writes to. Nothing recorded is
// lost: Append returns only once its events are fsync'd, sealed chunks keep
// their seq and bytes across crashes, and data is deleted only after the
// control plane acknowledged it (Ack).
//
// On disk, a directory holds numbered segment files (00000000000000000001.seg,
// ...), an ack file and a LOCK file. A segment is an 8-byte magic followed by
// records, each framed as
//
//	u32 length (of what follows the crc) | u32 CRC32C (Castagnoli) | type | payload
//
// where type 'E' is one serialized SessionEvent and type 'C' is a sealed
// chunk: an i64 (the unix-nano time its first event was appended) followed
// by a serialized interlockv1.UploadChunk. A chunk holds exactly the event
// records written since the previous chunk record, zstd-compressed as one
// EventBatch. A segment other than the last always ends with a chunk record,
// so it can be deleted as a whole once its last chunk is acked.
//
// Appends commit in groups, on the appenders' own goroutines: the first
// to find no commit running takes every Append queued while the previous
// write (and fsync) ran (waiting Options.CommitDelay for more), writes them
// with one write and one fsync, then answers them all.
// Chunks are sealed in that same write, so a chunk becomes visible to
// Next/Pending only once it is durable.
//
// Sharp edges:
//   - Open recovers: a torn or garbage tail of the last segment (a crash
//     mid-write) is truncated; damage anywhere else is a *CorruptError and
//     Open fails rather than silently drop recorded events.
//   - Events that were written but not yet confirmed when the process died
//     may be present after recovery: recovery keeps every intact record.
//   - When full, Append refuses new sessions (a batch holding a
//     SessionOpen) with ErrFull at MaxBytes, and refuses everything past
//     MaxBytes+ReserveBytes; it never drops what it accepted.
//   - A write or fsync error fails the spool for good (every later Append
//     returns it): after fsync fails the page cache cannot be trusted. Close
//     and Open again to recover from what is on disk.
//   - Chunk seqs are gap-free for the directory's lifetime. Deleting the
//     directory restarts them at 1, which would collide with the chunks
//     the control plane already holds for the node: SkipTo (which the
//     uploader calls with Resume's answer) renumbers the spool's chunks to
//     follow the control plane's, durably (a SEQBASE file next to ACKED).
//   - One Spool per directory (an exclusive flock on LOCK); Close it.
package spool
