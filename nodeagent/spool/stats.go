// SPDX-License-Identifier: Apache-2.0

// Stats: depth gauges and cumulative counters, ready for metrics.

package spool

import (
	"sync/atomic"
	"time"
)

// counters are cumulative since Open.
type counters struct {
	appends, events, rejected, syncs, chunks atomic.Uint64
	compressed, uncompressed                 atomic.Uint64
}

// Stats is a snapshot of a Spool.
type Stats struct {
	// Depth: what is waiting for the control plane.
	PendingChunks int   // sealed, not acked
	PendingEvents int   // in those chunks plus UnsealedEvents
	PendingBytes  int64 // compressed bytes of the pending chunks
	// UnsealedEvents are durable but not yet in a chunk.
	UnsealedEvents int
	// OldestUnacked is when the oldest event not acked was appended
	// (zero when nothing is pending).
	OldestUnacked time.Time
	// DiskBytes is the size of the live segment files, against which
	// MaxBytes is checked.
	DiskBytes int64
	LastSeq   uint64 // last sealed chunk
	Acked     uint64 // highest acked chunk

	// Cumulative since Open.
	Appends           uint64 // Append calls committed
	Events            uint64 // events committed
	Rejected          uint64 // Append calls refused with ErrFull
	Syncs             uint64 // fsyncs of group commits
	Chunks            uint64 // chunks sealed
	CompressedBytes   uint64 // zstd bytes of those chunks
	UncompressedBytes uint64 // EventBatch bytes of those chunks
}

// Age returns how long the oldest unacked event has waited, at now.
func (st Stats) Age(now time.Time) time.Duration {
	if st.OldestUnacked.IsZero() {
		return 0
	}
	return now.Sub(st.OldestUnacked)
}

// Stats returns a snapshot.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	st := Stats{
		PendingChunks:  len(s.chunks),
		UnsealedEvents: s.unsealed,
		PendingEvents:  s.unsealed,
		DiskBytes:      s.diskBytes,
		LastSeq:        s.lastSeq + s.base,
		Acked:          s.acked + s.base,
	}
	for _, c := range s.chunks {
		st.PendingEvents += c.events
		st.PendingBytes += int64(c.zsize)
	}
	switch {
	case len(s.chunks) > 0:
		st.OldestUnacked = s.chunks[0].first
	case s.unsealed > 0:
		st.OldestUnacked = s.unsealedAt
	}
	s.mu.Unlock()
	c := &s.counters
	st.Appends, st.Events, st.Rejected = c.appends.Load(), c.events.Load(), c.rejected.Load()
	st.Syncs, st.Chunks = c.syncs.Load(), c.chunks.Load()
	st.CompressedBytes, st.UncompressedBytes = c.compressed.Load(), c.uncompressed.Load()
	return st
}
