// SPDX-License-Identifier: Apache-2.0

// Errors of the spool.

package spool

import (
	"errors"
	"fmt"
)

var (
	// ErrFull is returned by Append when the spool has no room: for a
	// batch opening a session once MaxBytes is reached, for any batch
	// once MaxBytes+ReserveBytes is. Nothing was written.
	ErrFull = errors.New("spool: full")
	// ErrClosed is returned by calls on a closed Spool, and by a second
	// Close.
	ErrClosed = errors.New("spool: closed")
)

// CorruptError reports a damaged record that recovery cannot attribute to
// a torn write (it is not at the end of the last segment).
type CorruptError struct {
	Segment string // file name
	Offset  int64  // of the damaged record
	Reason  string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("spool: corrupt record in %s at offset %d: %s", e.Segment, e.Offset, e.Reason)
}
