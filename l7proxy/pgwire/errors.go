// SPDX-License-Identifier: Apache-2.0

// Errors of the codec: a message too long for the limit, and a message
// that does not decode.

package pgwire

import (
	"errors"
	"fmt"
)

// ErrTooLarge is matched (errors.Is) by every *TooLargeError.
var ErrTooLarge = errors.New("pgwire: message too large")

// ErrMalformed is matched by every *MalformedError.
var ErrMalformed = errors.New("pgwire: malformed message")

// TooLargeError is a message whose declared length exceeds the reader's
// limit. Nothing of its body was read.
type TooLargeError struct {
	// Type is the message type byte, 0 for a startup-phase message.
	Type   byte
	Length int64 // declared length, length field included
	Max    int   // the limit
}

func (e *TooLargeError) Error() string {
	if e.Type == 0 {
		return fmt.Sprintf("pgwire: startup message of %d bytes exceeds the limit of %d", e.Length, e.Max)
	}
	return fmt.Sprintf("pgwire: message %q of %d bytes exceeds the limit of %d", e.Type, e.Length, e.Max)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// MalformedError is a message whose body does not decode.
type MalformedError struct {
	// Message names the message type (Bind, DataRow, ...).
	Message string
	Reason  string
}

func (e *MalformedError) Error() string {
	return "pgwire: malformed " + e.Message + ": " + e.Reason
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(msg, reason string) error { return &MalformedError{Message: msg, Reason: reason} }
