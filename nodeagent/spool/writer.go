// SPDX-License-Identifier: Apache-2.0

// Group commit, sealing and segment rotation; the goroutine that seals
// and fsyncs on timers.

package spool

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// run is the goroutine of timers: it seals a chunk ChunkDelay after its
// first event, fsyncs SyncInterval after a write, serves Sync, rotates an
// acked segment, and drains the queue on Close. Appends are committed by
// their callers (lead); run holds wmu for each of its own steps.
func (s *Spool) run() {
	defer close(s.stopped)
	sealTimer := time.NewTimer(time.Hour)
	sealTimer.Stop()
	defer sealTimer.Stop()
	var sealC <-chan time.Time
	armSeal := func() {
		if len(s.w.unsealed) > 0 && sealC == nil {
			sealTimer.Reset(max(time.Until(s.w.unsFirst.Add(s.opts.ChunkDelay)), 0))
			sealC = sealTimer.C
		} else if len(s.w.unsealed) == 0 && sealC != nil {
			sealTimer.Stop()
			sealC = nil
		}
	}
	s.wmu.Lock()
	armSeal() // events recovered unsealed
	s.wmu.Unlock()
	syncTimer := time.NewTimer(time.Hour)
	syncTimer.Stop()
	defer syncTimer.Stop()
	var syncC <-chan time.Time
	armSync := func() {
		if s.w.dirty && syncC == nil {
			syncTimer.Reset(s.opts.SyncInterval)
			syncC = syncTimer.C
		}
	}
	for {
		var done chan error
		select {
		case <-s.kick:
			s.wmu.Lock()
		case <-sealC:
			sealC = nil
			s.wmu.Lock()
			s.commit(nil, true)
		case <-syncC:
			syncC = nil
			s.wmu.Lock()
			s.syncBackground()
			s.wmu.Lock()
		case done = <-s.flushes:
			s.wmu.Lock()
			s.commitQueued()
			s.commit(nil, true)
			s.syncNow()
		case <-s.nudge:
			s.wmu.Lock()
			s.rotateIfAcked()
		case <-s.closing:
			s.wmu.Lock()
			s.commitQueued() // no Append queues once closing is closed
			s.commit(nil, true)
			s.syncNow()
			s.wmu.Unlock()
			return
		}
		s.commitQueued()
		armSeal()
		armSync()
		s.wmu.Unlock()
		s.lead()
		if done != nil {
			s.mu.Lock()
			err := s.failed
			s.mu.Unlock()
			done <- err
		}
	}
}

// commit writes the accepted requests of batch, seals full chunks (and the
// partial one too when sealAll), fsyncs once, publishes the chunks and
// answers the requests.
func (s *Spool) commit(batch []*appendReq, sealAll bool) {
	s.mu.Lock()
	failed, disk, active := s.failed, s.diskBytes, s.segs[len(s.segs)-1]
	s.mu.Unlock()
	if failed != nil {
		for _, r := range batch {
			r.done <- failed
		}
		return
	}
	w := &s.w
	// Whether the timer goroutine has a seal or fsync to arm for.
	noSeal, noSync := len(w.unsealed) == 0, !w.dirty
	w.buf = w.buf[:0]
	w.newChunks = w.newChunks[:0]
	accepted := batch[:0:0]
	rejected, events := 0, 0
	for _, r := range batch {
		limit := s.opts.MaxBytes + s.opts.ReserveBytes
		if r.open {
			limit = s.opts.MaxBytes
		}
		if disk+int64(len(w.buf)+len(r.frames)) > limit {
			r.done <- fmt.Errorf("%w: %d bytes on disk, limit %d", ErrFull, disk+int64(len(w.buf)), limit)
			rejected++
			continue
		}
		accepted = append(accepted, r)
		// Record by record: a chunk record follows exactly the events
		// it holds, even when one Append spans two chunks.
		for _, rec := range r.recs {
			w.buf = append(w.buf, rec...)
			ev := rec[frameHeader+1:]
			if len(w.unsealed) == 0 {
				w.unsFirst = time.Now()
			}
			w.unsealed = append(w.unsealed, ev)
			w.unsBytes += len(ev)
			events++
			if len(w.unsealed) >= s.opts.ChunkEvents || w.unsBytes >= s.opts.ChunkBytes {
				s.seal(active)
			}
		}
	}
	rotate := active.size+int64(len(w.buf)) >= s.opts.SegmentBytes
	if len(w.unsealed) > 0 && (sealAll || rotate) {
		s.seal(active) // a segment ends on a chunk record
	}
	if len(w.buf) > 0 {
		var err error
		if s.opts.SyncInterval > 0 {
			err = s.write()
		} else {
			err = s.writeSync()
		}
		if err != nil {
			s.fail(err)
			for _, r := range accepted {
				r.done <- err
			}
			return
		}
	}
	s.publish(active, len(accepted), events, rejected)
	for _, r := range accepted {
		r.done <- nil
	}
	if (noSeal && len(w.unsealed) > 0) || (noSync && w.dirty) {
		// Something to seal or fsync later: the timer goroutine arms
		// for it.
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	if rotate && len(w.unsealed) == 0 {
		if err := s.rotate(); err != nil {
			s.fail(err)
		}
	}
}

// seal appends the chunk of the unsealed events to w.buf.
func (s *Spool) seal(active *segment) {
	w := &s.w
	w.scratch = eventBatch(w.scratch[:0], w.unsealed)
	z := w.enc.EncodeAll(w.scratch, make([]byte, 0, len(w.scratch)/4))
	sum := sha256.Sum256(z)
	c := &interlockv1.UploadChunk{
		Seq:              w.nextSeq,
		Zstd:             z,
		Sha256:           sum[:],
		Events:           uint32(len(w.unsealed)),
		UncompressedSize: uint64(len(w.scratch)),
	}
	payload, err := chunkPayload(w.unsFirst, c)
	if err != nil {
		// Marshalling a message of bytes and ints cannot fail; if it
		// does, leave the events unsealed for the next try.
		s.log.Error("seal chunk", "seq", c.Seq, "err", err)
		return
	}
	off := active.size + int64(len(w.buf))
	w.buf = appendFrame(w.buf, typeChunk, payload)
	w.newChunks = append(w.newChunks, chunkRef{
		seq: c.Seq, seg: active.id, off: off, n: frameSize(len(payload)),
		events: len(w.unsealed), zsize: len(z), first: w.unsFirst,
	})
	w.nextSeq++
	clear(w.unsealed)
	w.unsealed = w.unsealed[:0]
	w.unsBytes = 0
	s.counters.uncompressed.Add(uint64(len(w.scratch)))
	s.counters.compressed.Add(uint64(len(z)))
}

// write writes w.buf to the active segment, leaving the fsync to syncNow.
func (s *Spool) write() error {
	if _, err := s.w.file.Write(s.w.buf); err != nil {
		return fmt.Errorf("spool: write: %w", err)
	}
	s.w.dirty = true
	return nil
}

// syncNow fsyncs unsynced writes and offers their chunks for upload; wmu
// is held, and Appends wait.
func (s *Spool) syncNow() {
	w := &s.w
	if !w.dirty || w.file == nil {
		return
	}
	s.syncMu.Lock() // after a background fsync, whose chunks come first
	defer s.syncMu.Unlock()
	if err := w.file.Sync(); err != nil {
		s.fail(fmt.Errorf("spool: fsync: %w", err))
		return
	}
	w.dirty = false
	s.counters.syncs.Add(1)
	if len(w.unsynced) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishChunks(w.unsynced)
	w.unsynced = w.unsynced[:0]
}

// syncBackground is syncNow without holding wmu during the fsync: called
// with wmu held, it takes what there is to fsync, lets go of wmu so that
// Appends go on writing, fsyncs, publishes, and returns with wmu released.
// The fsync covers every write made before it started; writes made during
// it are left dirty for the next one.
func (s *Spool) syncBackground() {
	w := &s.w
	if !w.dirty || w.file == nil {
		s.wmu.Unlock()
		return
	}
	f, chunks := w.file, slices.Clone(w.unsynced)
	w.dirty = false
	w.unsynced = w.unsynced[:0]
	s.syncMu.Lock() // rotate's syncNow waits for it before closing f
	s.wmu.Unlock()
	defer s.syncMu.Unlock()
	if err := f.Sync(); err != nil {
		s.fail(fmt.Errorf("spool: fsync: %w", err))
		return
	}
	s.counters.syncs.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishChunks(chunks)
}

// writeSync writes w.buf to the active segment and fsyncs it.
func (s *Spool) writeSync() error {
	if _, err := s.w.file.Write(s.w.buf); err != nil {
		return fmt.Errorf("spool: write: %w", err)
	}
	if err := s.w.file.Sync(); err != nil {
		return fmt.Errorf("spool: fsync: %w", err)
	}
	s.counters.syncs.Add(1)
	return nil
}

// publish makes a durable commit visible: sizes, chunks, counters.
func (s *Spool) publish(active *segment, appends, events, rejected int) {
	w := &s.w
	s.mu.Lock()
	defer s.mu.Unlock()
	active.size += int64(len(w.buf))
	s.diskBytes += int64(len(w.buf))
	s.unsealed = len(w.unsealed)
	s.unsealedAt = w.unsFirst
	active.tailEvents = len(w.unsealed) > 0
	for _, c := range w.newChunks {
		active.lastChunk = c.seq
	}
	s.counters.appends.Add(uint64(appends))
	s.counters.events.Add(uint64(events))
	s.counters.rejected.Add(uint64(rejected))
	if s.opts.SyncInterval > 0 {
		// Offered for upload once fsync'd (syncNow).
		w.unsynced = append(w.unsynced, w.newChunks...)
		return
	}
	s.publishChunks(w.newChunks)
}

// publishChunks offers durable chunks for upload; s.mu is held.
func (s *Spool) publishChunks(chunks []chunkRef) {
	if len(chunks) == 0 {
		return
	}
	for _, c := range chunks {
		s.chunks = append(s.chunks, c)
		s.lastSeq = c.seq
		s.counters.chunks.Add(1)
	}
	close(s.newChunk)
	s.newChunk = make(chan struct{})
}

// fail makes err sticky: every later Append returns it.
func (s *Spool) fail(err error) {
	s.log.Error("spool failed; reopen to recover", "err", err)
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	s.mu.Unlock()
}

// rotate closes the active segment and starts the next one, then deletes
// segments that are fully acked.
func (s *Spool) rotate() error {
	s.syncNow() // a segment is complete on disk before the next starts
	s.mu.Lock()
	next := s.segs[len(s.segs)-1].id + 1
	s.mu.Unlock()
	if err := s.w.file.Close(); err != nil {
		return fmt.Errorf("spool: close segment: %w", err)
	}
	s.w.file = nil
	f, err := createSegment(s.dir, next)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.w.file = f
	s.mu.Lock()
	s.segs = append(s.segs, &segment{id: next, size: int64(len(magic))})
	s.diskBytes += int64(len(magic))
	s.mu.Unlock()
	if err := s.collectGarbage(); err != nil {
		s.log.Warn("delete acked segments", "err", err)
	}
	return nil
}

// rotateIfAcked rotates an idle active segment whose chunks are all acked,
// so that its space is freed.
func (s *Spool) rotateIfAcked() {
	s.mu.Lock()
	active := s.segs[len(s.segs)-1]
	idle := s.failed == nil && len(s.w.unsealed) == 0 && active.lastChunk > 0 && active.lastChunk <= s.acked
	s.mu.Unlock()
	if idle {
		if err := s.rotate(); err != nil {
			s.fail(err)
		}
	}
}
