// SPDX-License-Identifier: Apache-2.0

// Content encodings: compressed bodies are decoded before masking.

package mask

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// maxEncodings bounds the content-codings of one body.
const maxEncodings = 4

// Decode returns the body src with its Content-Encoding removed: gzip
// (x-gzip), deflate (zlib-wrapped as RFC 9110 says, or raw as some servers
// send it) and identity, applied in the order listed. Any other coding —
// br among them, for which no pure-Go decoder is in this module — is an
// *EncodingError: the body cannot be inspected and must not be forwarded.
//
// The masked output is not re-encoded: the caller removes
// Content-Encoding and Content-Length and sends the masked body with
// chunked encoding (HTTP/1.1) or without a length (HTTP/2), or with the
// Content-Length of the whole masked body when it buffered it. Errors
// from the decompressor surface as read errors of the masker. The limit of
// the Masker applies to the decoded bytes, which bounds decompression
// bombs. Close releases the decoders; it does not close src.
func Decode(src io.Reader, contentEncoding string) (io.ReadCloser, error) {
	var codings []string
	for c := range strings.SplitSeq(contentEncoding, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && c != "identity" {
			codings = append(codings, c)
		}
	}
	if len(codings) > maxEncodings {
		return nil, fmt.Errorf("mask: %d content-codings: %w", len(codings), ErrUnsupported)
	}
	for _, c := range codings {
		if c != "gzip" && c != "x-gzip" && c != "deflate" {
			return nil, &EncodingError{Encoding: c}
		}
	}
	d := &decoded{r: src}
	for i := len(codings) - 1; i >= 0; i-- {
		var (
			rc  io.ReadCloser
			err error
		)
		switch codings[i] {
		case "gzip", "x-gzip":
			rc, err = newGzip(d.r)
		case "deflate":
			rc, err = newDeflate(d.r)
		}
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("mask: %s: %w", codings[i], err)
		}
		d.closers = append(d.closers, rc)
		d.r = rc
	}
	return d, nil
}

// decoded is a body under its decoders.
type decoded struct {
	r       io.Reader
	closers []io.Closer
}

func (d *decoded) Read(p []byte) (int, error) { return d.r.Read(p) }

func (d *decoded) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i].Close())
	}
	d.closers = nil
	return errors.Join(errs...)
}

// newGzip reads a gzip stream; an empty body stays empty.
func newGzip(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return io.NopCloser(br), nil
	}
	return gzip.NewReader(br)
}

// newDeflate reads a zlib stream, or raw deflate when the first two bytes
// are no zlib header.
func newDeflate(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	h, err := br.Peek(2)
	if len(h) == 0 && errors.Is(err, io.EOF) {
		return io.NopCloser(br), nil
	}
	if len(h) == 2 && h[0]&0x0F == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}
