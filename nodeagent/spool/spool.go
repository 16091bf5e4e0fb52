// SPDX-License-Identifier: Apache-2.0

// The Spool type: Open, Append and Close.

package spool

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Spool is a durable event log in one directory. Append, Next, Pending, Ack
// and Stats are safe for concurrent use.
type Spool struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File    // flock'd LOCK file, released by Close
	utf8 *wireSchema // SessionEvent's, for the UTF-8 check of Append

	// Appends queue here; whoever holds wmu commits the queue (see lead).
	qmu   sync.Mutex
	queue []*appendReq

	wmu     sync.Mutex      // held to commit, seal, fsync or rotate: guards w
	syncMu  sync.Mutex      // held by an fsync; taken after wmu, publishes in fsync order
	kick    chan struct{}   // commit → timer goroutine: something to seal or fsync later
	nudge   chan struct{}   // Ack → timer goroutine: maybe rotate an acked segment
	flushes chan chan error // Sync → writer: seal and fsync everything now
	closing chan struct{}   // closed by Close: the writer drains and stops
	stopped chan struct{}   // closed by the writer when it exits

	closeMu   sync.RWMutex // Append holds R while enqueueing; Close holds W to set closed
	closed    bool         // guarded by closeMu
	closeOnce sync.Once

	ackMu sync.Mutex // serializes Ack and segment deletion

	mu           sync.Mutex // guards everything below
	segs         []*segment // live segments by id; the last is active
	chunks       []chunkRef // sealed chunks with seq > acked, by seq
	acked        uint64
	ackPersisted uint64 // acked as last written to the ack file
	lastSeq      uint64 // last sealed chunk seq
	base         uint64 // added to the local seqs above on the wire (SkipTo)
	numbered     bool   // base is settled with the control plane (SkipTo)
	unsealed     int    // events appended but not sealed
	unsealedAt   time.Time
	diskBytes    int64
	failed       error         // sticky write/fsync failure
	newChunk     chan struct{} // closed and replaced when chunks are published
	counters     counters

	w writer // guarded by wmu
}

// writer is the state of whoever holds wmu.
type writer struct {
	file      *os.File // active segment, append-only
	enc       *zstd.Encoder
	buf       []byte   // records of the current group commit
	scratch   []byte   // EventBatch being sealed
	unsealed  [][]byte // serialized events since the last chunk
	unsBytes  int
	unsFirst  time.Time
	nextSeq   uint64
	newChunks []chunkRef // sealed into buf, published after fsync
	// unsynced holds chunks written but not yet fsync'd (SyncInterval > 0);
	// dirty says the file has unsynced writes.
	unsynced []chunkRef
	dirty    bool
}

// appendReq is one Append handed to the writer.
type appendReq struct {
	frames []byte   // framed event records
	recs   [][]byte // each framed record, aliasing frames
	open   bool     // holds a SessionOpen
	done   chan error
}

// Open opens (creating it if needed) the spool in dir, recovers it, and
// starts its writer. The caller must Close it.
func Open(dir string, opts Options) (*Spool, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("spool: zstd: %w", err)
	}
	s := &Spool{
		dir:      dir,
		opts:     opts,
		log:      opts.Logger.With("spool", dir),
		lock:     lock,
		kick:     make(chan struct{}, 1),
		nudge:    make(chan struct{}, 1),
		flushes:  make(chan chan error),
		closing:  make(chan struct{}),
		stopped:  make(chan struct{}),
		newChunk: make(chan struct{}),
		utf8:     newWireSchema((&interlockv1.SessionEvent{}).ProtoReflect().Descriptor()),
	}
	s.w.enc = enc
	if err := s.recover(); err != nil {
		if s.w.file != nil {
			s.w.file.Close()
		}
		enc.Close()
		lock.Close()
		return nil, err
	}
	go s.run()
	return s, nil
}

// Append makes evs durable, in order, and returns nil once they are. It
// implements record.Sink. ctx bounds waiting; when it ends after the events
// were handed to the writer they may still be written. A batch holding a
// SessionOpen is refused with ErrFull at MaxBytes; any batch past
// MaxBytes+ReserveBytes. Append serializes the events deterministically
// (fields in number order; the events have no maps) and refuses one with
// a string that is not UTF-8, as protobuf-go does.
func (s *Spool) Append(ctx context.Context, evs []*interlockv1.SessionEvent) error {
	if len(evs) == 0 {
		return nil
	}
	r := &appendReq{recs: make([][]byte, len(evs)), done: make(chan error, 1)}
	var sizes [8]int
	sz := sizes[:0]
	total := 0
	for _, ev := range evs {
		n := ev.SizeVT()
		sz = append(sz, n)
		total += frameSize(n)
		if ev.GetOpen() != nil {
			r.open = true
		}
	}
	// vtprotobuf's generated marshaller, without reflection. It writes
	// the bytes protobuf-go's deterministic one does (the events have no
	// maps; a test in package interlockv1 holds the two to the same
	// bytes), but does not refuse invalid UTF-8: s.utf8 does.
	r.frames = make([]byte, total)
	off := 0
	for i, ev := range evs {
		start := off
		r.frames[off+frameHeader] = typeEvent
		off += frameHeader + 1
		msg := r.frames[off : off+sz[i]]
		n, err := ev.MarshalToSizedBufferVT(msg)
		if err != nil {
			return fmt.Errorf("spool: marshal event: %w", err)
		}
		if n != len(msg) {
			// Changed while it was marshalled: the frame would lie.
			return fmt.Errorf("spool: marshal event: %d bytes, sized %d", n, len(msg))
		}
		if err := s.utf8.check(msg); err != nil {
			return fmt.Errorf("spool: marshal event: %w", err)
		}
		off += sz[i]
		fillHeader(r.frames[:off], start)
		r.recs[i] = r.frames[start:off]
	}

	s.mu.Lock()
	failed := s.failed
	s.mu.Unlock()
	if failed != nil {
		return failed
	}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	s.qmu.Lock()
	s.queue = append(s.queue, r)
	s.qmu.Unlock()
	s.closeMu.RUnlock()
	s.lead()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("spool: append: %w", ctx.Err())
	}
}

// lead commits the queued Appends if no one else is committing. Whoever
// holds wmu commits what is queued before letting go and looks again after:
// an Append that found wmu taken is committed by its holder, on the
// holder's goroutine, so Appends are written with no hand-off to another
// goroutine and concurrent ones still share a write (group commit).
func (s *Spool) lead() {
	for s.wmu.TryLock() {
		s.commitQueued()
		s.wmu.Unlock()
		s.qmu.Lock()
		more := len(s.queue) > 0
		s.qmu.Unlock()
		if !more {
			return
		}
	}
}

// commitQueued commits the queue until it is empty; wmu is held.
func (s *Spool) commitQueued() {
	if s.opts.CommitDelay > 0 {
		s.qmu.Lock()
		queued := len(s.queue) > 0
		s.qmu.Unlock()
		if queued {
			time.Sleep(s.opts.CommitDelay) // let more Appends join this commit
		}
	}
	for {
		s.qmu.Lock()
		batch := s.queue
		s.queue = nil
		s.qmu.Unlock()
		if len(batch) == 0 {
			return
		}
		s.commit(batch, false)
	}
}

// Sync seals every event appended so far into chunks and fsyncs them, so
// that they are offered for upload at once instead of after ChunkDelay and
// SyncInterval.
func (s *Spool) Sync(ctx context.Context) error {
	done := make(chan error, 1)
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case s.flushes <- done:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return fmt.Errorf("spool: sync: %w", ctx.Err())
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("spool: sync: %w", ctx.Err())
	}
}

// Close stops the writer after it committed every queued Append and sealed
// what was left, then releases the directory. A second Close returns
// ErrClosed.
func (s *Spool) Close() error {
	err := ErrClosed
	s.closeOnce.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		close(s.closing)
		<-s.stopped
		err = nil
		s.wmu.Lock()
		defer s.wmu.Unlock()
		if s.w.file != nil {
			if cerr := s.w.file.Close(); cerr != nil {
				err = fmt.Errorf("spool: close: %w", cerr)
			}
		}
		s.w.enc.Close()
		s.lock.Close()
		s.mu.Lock()
		if s.failed == nil {
			s.failed = ErrClosed
		}
		close(s.newChunk)
		s.newChunk = make(chan struct{})
		s.mu.Unlock()
	})
	return err
}
