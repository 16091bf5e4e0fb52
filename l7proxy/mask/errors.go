// SPDX-License-Identifier: Apache-2.0

// Errors of the masker. Every one of them means the body could not be
// masked: the caller must fail closed.

package mask

import (
	"errors"
	"fmt"
)

var (
	// ErrTooLarge matches every *TooLargeError.
	ErrTooLarge = errors.New("mask: body larger than the limit")
	// ErrTooDeep is wrapped in the *SyntaxError of a document nested deeper
	// than Options.MaxDepth.
	ErrTooDeep = errors.New("nesting deeper than the limit")
	// ErrNeedsJSON is returned when a masker with JSON path rules is asked
	// to mask a body that is not JSON: the rules cannot be applied.
	ErrNeedsJSON = errors.New("mask: JSON path rules need a JSON body")
	// ErrUnsupported matches every *EncodingError.
	ErrUnsupported = errors.New("mask: unsupported body encoding")
)

// TooLargeError is returned when the (decoded) body is longer than the
// masker's limit. Output may already have been written (see the package
// documentation): the caller must abort the response, not end it.
type TooLargeError struct {
	// Limit is the limit in bytes that was exceeded.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("mask: body larger than the limit of %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// SyntaxError is returned for a body that is not valid JSON (or nested too
// deeply: Err is then ErrTooDeep).
type SyntaxError struct {
	// Offset is the number of input bytes before the error.
	Offset int64
	Msg    string
	Err    error
}

func (e *SyntaxError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("mask: invalid JSON at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("mask: invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// EncodingError names a Content-Encoding or charset the masker cannot
// decode, such as br: the body cannot be inspected, so it must not be
// forwarded.
type EncodingError struct {
	// Encoding is the content-coding ("br") or "charset=NAME".
	Encoding string
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("mask: cannot mask content-encoding %s", e.Encoding)
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *EncodingError) Is(target error) bool { return target == ErrUnsupported }
