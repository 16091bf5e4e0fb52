// SPDX-License-Identifier: Apache-2.0

// Package upload streams a node's spooled chunks to the control plane's
// SessionService and acks them back into the spool, which then deletes
// them.
//
// One Uploader runs one loop (Run): ask Resume for the highest chunk the
// control plane holds, hand it to the Source's SkipTo when it has one (a
// node whose spool was lost continues numbering after it), ack it into
// the Source, open an Upload stream,
// send chunks after it with at most Window in flight, and ack every
// UploadAck into the Source. When the stream breaks it starts over after a
// bounded, jittered exponential backoff; chunks sent but not acked are sent
// again, which the control plane treats as duplicates (same seq, same
// sha256).
//
// Sharp edges:
//   - Run returns only when its ctx ends. Cancel it before closing the
//     Source: a closed Source makes every attempt fail until then.
//   - The uploader trusts the control plane's acks and Resume only as far
//     as the Source lets it: nodeagent/spool clamps an ack above its last
//     sealed chunk, so a confused peer cannot make it drop unsent chunks.
//   - It does not dial: give it a SessionServiceClient over a connection
//     that authenticates the node (mTLS); grpc reconnects it.
package upload
