// SPDX-License-Identifier: Apache-2.0

// Blob content: deterministic bytes generated as they are read, so that a
// blob of many gigabytes costs no memory and any range can be served.

package azurefake

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// blobChunk is the unit of generation: chunk k of a blob is a ChaCha8
// stream keyed by the blob's name and k, so a reader can start at any
// offset by skipping into one chunk only.
const blobChunk = 64 << 10

// contentReader reads a blob's content from off up to end.
type contentReader struct {
	key      [sha256.Size]byte // identifies the blob
	off, end int64
	gen      *rand.ChaCha8 // positioned at off; nil at a chunk boundary
}

// NewReader returns a reader of b's content from offset to its end. The
// content is a function of Account, Container and Name only (Size cuts
// it), the same in every run and every process: a test computes what a
// download must yield by reading it. Each reader is used by one goroutine.
func (b Blob) NewReader(offset int64) io.Reader {
	return b.rangeReader(offset, b.Size)
}

// rangeReader reads [off, end) of b's content.
func (b Blob) rangeReader(off, end int64) *contentReader {
	off = min(max(off, 0), b.Size)
	return &contentReader{key: b.contentKey(), off: off, end: max(min(end, b.Size), off)}
}

// contentKey identifies b's content.
func (b Blob) contentKey() [sha256.Size]byte {
	h := sha256.New()
	for _, s := range []string{"azurefake blob", b.Account, b.Container, b.Name} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// Read fills p with the next bytes, at most up to the end of the current
// chunk.
func (r *contentReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	within := r.off % blobChunk
	if r.gen == nil || within == 0 {
		r.seek()
	}
	n := int(min(int64(len(p)), r.end-r.off, blobChunk-within))
	_, _ = r.gen.Read(p[:n]) // ChaCha8.Read always fills p
	r.off += int64(n)
	return n, nil
}

// seek positions the generator at r.off: the chunk's stream, advanced by
// the offset within the chunk.
func (r *contentReader) seek() {
	var seed [32]byte
	h := sha256.New()
	h.Write(r.key[:])
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(r.off/blobChunk))
	h.Write(k[:])
	h.Sum(seed[:0])
	r.gen = rand.NewChaCha8(seed)
	var skip [512]byte
	for left := r.off % blobChunk; left > 0; {
		n := min(left, int64(len(skip)))
		_, _ = r.gen.Read(skip[:n])
		left -= n
	}
}
