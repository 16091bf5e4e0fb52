// SPDX-License-Identifier: Apache-2.0

// Reading sealed chunks back for the uploader: Next and Pending.

package spool

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Next returns the first sealed, unacked chunk with a seq above after,
// waiting for one to be sealed. It returns the same seq and bytes every
// time it is asked, across restarts. It fails with ctx's error or with
// ErrClosed. The returned chunk is the caller's.
func (s *Spool) Next(ctx context.Context, after uint64) (*interlockv1.UploadChunk, error) {
	for {
		s.mu.Lock()
		failed, base := s.failed, s.base
		local := after - min(after, base)
		i, _ := slices.BinarySearchFunc(s.chunks, local+1, func(c chunkRef, t uint64) int {
			return compareUint(c.seq, t)
		})
		var ref *chunkRef
		if i < len(s.chunks) {
			c := s.chunks[i]
			ref = &c
		}
		wait := s.newChunk
		s.mu.Unlock()
		if ref != nil {
			c, err := s.readChunk(*ref)
			if errors.Is(err, fs.ErrNotExist) {
				continue // acked and deleted meanwhile
			}
			if err != nil {
				return nil, err
			}
			c.Seq += base
			return c, nil
		}
		if errors.Is(failed, ErrClosed) {
			return nil, ErrClosed
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("spool: next: %w", ctx.Err())
		}
	}
}

// Pending iterates over the chunks with a seq above after, in order,
// waiting for new ones, until ctx ends or the spool closes; it then yields
// the error once and stops.
func (s *Spool) Pending(ctx context.Context, after uint64) iter.Seq2[*interlockv1.UploadChunk, error] {
	return func(yield func(*interlockv1.UploadChunk, error) bool) {
		for {
			c, err := s.Next(ctx, after)
			if !yield(c, err) || err != nil {
				return
			}
			after = c.GetSeq()
		}
	}
}

// readChunk reads and verifies a chunk record.
func (s *Spool) readChunk(ref chunkRef) (*interlockv1.UploadChunk, error) {
	f, err := os.Open(filepath.Join(s.dir, segName(ref.seg)))
	if err != nil {
		return nil, err // fs.ErrNotExist is handled by Next
	}
	defer f.Close()
	buf := make([]byte, ref.n)
	if _, err := f.ReadAt(buf, ref.off); err != nil {
		return nil, fmt.Errorf("spool: read chunk %d: %w", ref.seq, err)
	}
	typ, payload, _, err := parseFrame(buf)
	if err != nil || typ != typeChunk {
		return nil, &CorruptError{Segment: segName(ref.seg), Offset: ref.off, Reason: fmt.Sprintf("chunk %d: %v", ref.seq, err)}
	}
	_, c, err := parseChunkPayload(payload)
	if err != nil {
		return nil, &CorruptError{Segment: segName(ref.seg), Offset: ref.off, Reason: err.Error()}
	}
	return c, nil
}
