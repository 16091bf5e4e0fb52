// SPDX-License-Identifier: Apache-2.0

// Body: records one HTTP body or PostgreSQL payload as a Payload, keeping
// the masked bytes up to a cap and hashing the original.

package record

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// ErrBodyDone is returned by writes to a Body after its Payload was taken.
var ErrBodyDone = errors.New("record: body already recorded")

// Body turns one streamed body into a Payload. It has two inputs, kept
// apart so that the original can never end up in the recording:
//
//   - Original: the full body as it crossed the proxy, after removing any
//     content encoding (gzip, br) and before masking. It is counted
//     (Payload.size) and hashed (Payload.sha256) and never stored, so a
//     party that holds the original can prove it is what was sent.
//   - Masked: the same body after masking. Its first cap bytes are kept
//     (Payload.masked); Payload.truncated says more followed.
//
// A handler tees the decoded body into Original and the masker's output
// into Masked. Payload fails if exactly one of the two saw bytes, which
// catches a handler that forgot one of them. A Body is safe for concurrent
// use (the two inputs may be fed from different goroutines); it is used for
// one body only.
type Body struct {
	limit int

	mu         sync.Mutex // guards everything below
	done       bool
	hash       hash.Hash
	origSize   uint64
	maskedSize uint64
	kept       []byte
	truncated  bool
}

// NewBody returns a Body that keeps at most limit masked bytes (limit <= 0
// keeps none: only size and hash are recorded).
func NewBody(limit int) *Body {
	return &Body{limit: max(limit, 0), hash: sha256.New()}
}

// Original returns the writer for the full, decoded, unmasked body: hashed
// and counted, never kept. Its Write never fails before Payload is called.
func (b *Body) Original() io.Writer { return originalWriter{b} }

// Masked returns the writer for the masked body: its first limit bytes are
// kept. Its Write never fails before Payload is called.
func (b *Body) Masked() io.Writer { return maskedWriter{b} }

type originalWriter struct{ b *Body }

func (w originalWriter) Write(p []byte) (int, error) {
	b := w.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, ErrBodyDone
	}
	b.hash.Write(p)
	b.origSize += uint64(len(p))
	return len(p), nil
}

type maskedWriter struct{ b *Body }

func (w maskedWriter) Write(p []byte) (int, error) {
	b := w.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, ErrBodyDone
	}
	n := len(p)
	b.maskedSize += uint64(n)
	if room := b.limit - len(b.kept); n > room {
		b.truncated = true
		p = p[:room]
	}
	b.kept = append(b.kept, p...)
	return n, nil
}

// Payload ends the body and returns its record: masked bytes (at most the
// limit), truncated, size and sha256 of the original. The caller fills in
// content type, encoding and masks. Writes after Payload fail.
func (b *Body) Payload() (*interlockv1.Payload, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil, ErrBodyDone
	}
	b.done = true
	if (b.origSize == 0) != (b.maskedSize == 0) {
		return nil, fmt.Errorf("record: body: original has %d bytes, masked has %d: one input was not fed", b.origSize, b.maskedSize)
	}
	return &interlockv1.Payload{
		Masked:    b.kept,
		Truncated: b.truncated,
		Size:      b.origSize,
		Sha256:    b.hash.Sum(nil),
	}, nil
}
