// SPDX-License-Identifier: Apache-2.0

// The input side: reads from the body under the byte limit and the
// context.

package mask

import (
	"context"
	"io"
)

// source reads the body, counting bytes against the limit.
type source struct {
	ctx   context.Context
	src   io.Reader
	n     int64 // bytes read so far
	limit int64 // < 0: none
}

// maxEmptyReads bounds reads that return neither bytes nor an error.
const maxEmptyReads = 100

// read fills p with at least one byte, or returns an error: io.EOF at the
// end, *TooLargeError past the limit, the context's error, or the
// reader's.
func (s *source) read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	for range maxEmptyReads {
		n, err := s.src.Read(p)
		s.n += int64(n)
		if s.limit >= 0 && s.n > s.limit {
			return 0, &TooLargeError{Limit: s.limit}
		}
		if n > 0 {
			return n, nil // a later Read repeats an error
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, io.ErrNoProgress
}
