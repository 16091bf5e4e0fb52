// SPDX-License-Identifier: Apache-2.0

// Sentinel errors of the recorder.

package record

import "errors"

var (
	// ErrClosed is returned by Emit on a session that was closed.
	ErrClosed = errors.New("record: session closed")
	// ErrUnredacted is returned for an event whose headers carry a
	// credential (Authorization, Cookie, ...) that was not redacted.
	ErrUnredacted = errors.New("record: unredacted credential header")
	// ErrInvalid is returned for an event the recorder cannot record: no
	// event kind set, or an open or close passed to Emit.
	ErrInvalid = errors.New("record: invalid event")
)
