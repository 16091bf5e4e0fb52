// SPDX-License-Identifier: Apache-2.0

// Recovery at Open: scan segments, truncate a torn tail, rebuild the chunk
// index and the unsealed events.

package spool

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// recover rebuilds s from the directory and opens the active segment.
func (s *Spool) recover() error {
	acked, hasAcked, err := readSeqFile(s.dir, ackFile)
	if err != nil {
		return err
	}
	s.acked, s.ackPersisted = acked, acked
	base, hasBase, err := readSeqFile(s.dir, baseFile)
	if err != nil {
		return err
	}
	// A spool that once acked chunks predates SEQBASE: its numbering is
	// the control plane's.
	s.base, s.numbered = base, hasBase || hasAcked
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		if id, ok := parseSegName(e.Name()); ok && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)

	var (
		prevSeq   uint64 // last chunk seq seen
		unsealed  [][]byte
		unsBytes  int
		uncovered []*segment // segments holding events not yet sealed
	)
	for i, id := range ids {
		last := i == len(ids)-1
		name := segName(id)
		path := filepath.Join(s.dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		seg := &segment{id: id}
		if len(data) < len(magic) || !bytes.Equal(data[:len(magic)], []byte(magic)) {
			if !last || len(data) >= len(magic) {
				return &CorruptError{Segment: name, Reason: "bad magic"}
			}
			// Died while creating the segment: start it again.
			s.log.Warn("recover: rewriting torn segment header", "segment", name)
			if err := rewriteMagic(path); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			data = []byte(magic)
		}
		off := len(magic)
		for off < len(data) {
			typ, payload, n, err := parseFrame(data[off:])
			if err != nil {
				if !last {
					return &CorruptError{Segment: name, Offset: int64(off), Reason: err.Error()}
				}
				s.log.Warn("recover: truncating torn tail", "segment", name, "offset", off, "dropped", len(data)-off, "reason", err)
				if err := truncate(path, int64(off)); err != nil {
					return fmt.Errorf("spool: %w", err)
				}
				data = data[:off]
				break
			}
			switch typ {
			case typeEvent:
				unsealed = append(unsealed, bytes.Clone(payload))
				unsBytes += len(payload)
				if !seg.tailEvents {
					seg.tailEvents = true
					uncovered = append(uncovered, seg)
				}
			case typeChunk:
				first, c, err := parseChunkPayload(payload)
				if err != nil {
					return &CorruptError{Segment: name, Offset: int64(off), Reason: err.Error()}
				}
				switch {
				case prevSeq == 0 && c.Seq > acked+1:
					return &CorruptError{Segment: name, Offset: int64(off), Reason: fmt.Sprintf("chunks %d-%d missing (acked %d)", acked+1, c.Seq-1, acked)}
				case prevSeq != 0 && c.Seq != prevSeq+1:
					return &CorruptError{Segment: name, Offset: int64(off), Reason: fmt.Sprintf("chunk %d follows chunk %d", c.Seq, prevSeq)}
				case int(c.Events) != len(unsealed):
					return &CorruptError{Segment: name, Offset: int64(off), Reason: fmt.Sprintf("chunk %d holds %d events, log has %d", c.Seq, c.Events, len(unsealed))}
				}
				for _, u := range uncovered {
					u.lastChunk, u.tailEvents = c.Seq, false
				}
				uncovered = uncovered[:0]
				seg.lastChunk = c.Seq
				if c.Seq > acked {
					s.chunks = append(s.chunks, chunkRef{
						seq: c.Seq, seg: id, off: int64(off), n: n,
						events: int(c.Events), zsize: len(c.Zstd), first: first,
					})
				}
				prevSeq = c.Seq
				unsealed, unsBytes = nil, 0
			}
			off += n
		}
		seg.size = int64(len(data))
		s.segs = append(s.segs, seg)
		s.diskBytes += seg.size
	}
	s.lastSeq = max(prevSeq, acked)
	s.w.nextSeq = s.lastSeq + 1
	s.w.unsealed, s.w.unsBytes = unsealed, unsBytes
	if len(unsealed) > 0 {
		s.w.unsFirst = time.Now()
		s.unsealed, s.unsealedAt = len(unsealed), s.w.unsFirst
		s.log.Info("recover: sealing events left unsealed", "events", len(unsealed))
	}

	if len(s.segs) == 0 {
		f, err := createSegment(s.dir, 1)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.w.file = f
		s.segs = []*segment{{id: 1, size: int64(len(magic))}}
		s.diskBytes = int64(len(magic))
		return nil
	}
	active := s.segs[len(s.segs)-1]
	f, err := os.OpenFile(filepath.Join(s.dir, segName(active.id)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("spool: open active segment: %w", err)
	}
	s.w.file = f
	if err := s.collectGarbage(); err != nil {
		s.log.Warn("recover: delete acked segments", "err", err)
	}
	return nil
}

// truncate cuts a file at size, durably.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("truncate: sync: %w", err)
	}
	return nil
}

// rewriteMagic resets a segment whose header was torn.
func rewriteMagic(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("rewrite segment: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(magic); err != nil {
		return fmt.Errorf("rewrite segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("rewrite segment: sync: %w", err)
	}
	return nil
}
