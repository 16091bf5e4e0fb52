// SPDX-License-Identifier: Apache-2.0

// SkipTo: number chunks after what the control plane holds, so that a
// node whose spool directory was lost does not reuse seqs.

package spool

import "fmt"

// SkipTo tells the spool that the control plane holds this node's chunks
// up to seq (Resume's answer), and settles the spool's numbering with it:
//
//   - The first call in a directory's life (no SEQBASE file yet): none of
//     the spool's chunks can have reached the control plane, so every
//     chunk not yet acked, and every later one, is numbered to follow seq
//     (the first becomes seq+1), whatever seqs they were sealed with. A
//     node whose spool directory was lost thus continues after the chunks
//     the control plane holds instead of colliding with them.
//   - Later calls do nothing while seq is at or below the spool's last
//     chunk (the control plane is catching up). A seq above it means the
//     control plane holds chunks this spool never sealed; they are
//     renumbered in the same way.
//
// The numbering is durable (the SEQBASE file) before SkipTo returns; chunk
// bytes and digests do not change. The uploader calls it at the start of
// each stream, before it sends or acks anything; it must not run
// concurrently with Ack, and chunks must not be sent before the first
// call.
func (s *Spool) SkipTo(seq uint64) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	s.mu.Lock()
	if s.numbered && seq <= s.lastSeq+s.base {
		s.mu.Unlock()
		return nil
	}
	old, numbered := s.base, s.numbered
	first := s.acked + 1
	base := seq + 1 - first // seq >= acked+old here, or the spool is new
	if !numbered && seq < s.acked {
		base = 0 // cannot happen with the uploader (it skips first); keep acks valid
	}
	s.mu.Unlock()
	if err := writeSeqFile(s.dir, baseFile, base); err != nil {
		return fmt.Errorf("spool: skip to %d: %w", seq, err)
	}
	s.mu.Lock()
	s.base, s.numbered = base, true
	s.mu.Unlock()
	if base != old {
		s.log.Warn("spool: numbering chunks after the control plane's",
			"control_plane_seq", seq, "first_unacked_was", first+old, "now", first+base, "new_spool", !numbered)
	}
	return nil
}
