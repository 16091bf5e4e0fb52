// SPDX-License-Identifier: Apache-2.0

// Ack: what the control plane has made durable, the ack file, and deletion
// of fully acked segments.

package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

const (
	ackFile  = "ACKED"
	baseFile = "SEQBASE"
)

// Ack records that the control plane made every chunk up to seq durable.
// Chunks up to seq are no longer offered by Next, and segment files whose
// chunks are all acked are deleted. A seq beyond the last sealed chunk is
// clamped to it, so a confused peer cannot make the spool skip chunks it
// has not sent yet.
func (s *Spool) Ack(seq uint64) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.mu.Lock()
	if seq <= s.base {
		s.mu.Unlock()
		return nil // chunks of an earlier spool in this directory's place
	}
	seq = min(seq-s.base, s.lastSeq)
	if seq <= s.acked {
		s.mu.Unlock()
		return nil
	}
	s.acked = seq
	i, _ := slices.BinarySearchFunc(s.chunks, seq+1, func(c chunkRef, t uint64) int {
		return compareUint(c.seq, t)
	})
	s.chunks = slices.Delete(s.chunks, 0, i)
	s.mu.Unlock()
	select {
	case s.nudge <- struct{}{}:
	default:
	}
	return s.collectGarbage()
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// collectGarbage deletes the leading non-active segments whose chunks are
// all acked, after making the ack durable (so that chunk seqs continue
// from it even when no segment is left).
func (s *Spool) collectGarbage() error {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	s.mu.Lock()
	acked := s.acked
	var victims []*segment
	for _, seg := range s.segs[:len(s.segs)-1] {
		if seg.tailEvents || seg.lastChunk > acked {
			break
		}
		victims = append(victims, seg)
	}
	persist := len(victims) > 0 && s.ackPersisted < acked
	s.mu.Unlock()
	if len(victims) == 0 {
		return nil
	}
	if persist {
		if err := writeSeqFile(s.dir, ackFile, acked); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
	}
	var errs []error
	removed := 0
	for _, seg := range victims {
		if err := os.Remove(filepath.Join(s.dir, segName(seg.id))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			break
		}
		removed++
	}
	s.mu.Lock()
	if persist {
		s.ackPersisted = acked
	}
	for _, seg := range victims[:removed] {
		s.diskBytes -= seg.size
	}
	s.segs = slices.Delete(s.segs, 0, removed)
	s.mu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("spool: delete segment: %w", errors.Join(errs...))
	}
	return nil
}

// writeSeqFile durably replaces the file name (ACKED or SEQBASE) in dir
// with seq: u64 seq, u32 CRC32C.
func writeSeqFile(dir, name string, seq uint64) error {
	b := binary.LittleEndian.AppendUint64(nil, seq)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename %s: %w", name, err)
	}
	return syncDir(dir)
}

// readSeqFile returns the seq persisted in the file name, and false when
// there is no such file.
func readSeqFile(dir, name string) (uint64, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
		return 0, false, &CorruptError{Segment: name, Reason: "bad " + name + " file"}
	}
	return binary.LittleEndian.Uint64(b), true, nil
}
