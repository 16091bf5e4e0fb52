// SPDX-License-Identifier: Apache-2.0

// Text bodies: the detectors over any body that is not JSON; and Body,
// which picks JSON or text by the content type.

package mask

import (
	"context"
	"errors"
	"io"
	"mime"
	"strings"
)

// Text copies src to dst with every detector match replaced by its
// marker. It reads in pieces and keeps about 100 KiB, whatever the size of
// the body (the limit still applies). It treats the body as ASCII-
// compatible text: UTF-8, Latin-1 and the like; secrets in UTF-16 are not
// found (Body refuses such charsets). A masker with JSON path rules
// returns ErrNeedsJSON without reading. On error, what was written is a
// masked prefix: the caller must abort the response.
func (m *Masker) Text(ctx context.Context, dst io.Writer, src io.Reader) (Result, error) {
	if m.NeedsJSON() {
		return Result{}, ErrNeedsJSON
	}
	sc := m.pool.get(len(m.attrs))
	defer m.pool.put(sc)
	var out output
	if cap(sc.out) < flushAt+1024 {
		sc.out = make([]byte, 0, 2*flushAt)
	}
	out.reset(dst, sc.out)
	s := source{ctx: ctx, src: src, limit: m.maxBytes}
	if m.maxBytes < 0 {
		s.limit = -1
	}
	st := &sc.str
	st.start(m.global, &out, false, sc.counts)
	var err error
	for out.err == nil {
		var n int
		n, err = s.read(st.tail())
		st.commit(n)
		if err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) {
		err = nil
		st.finish()
	}
	out.flush()
	sc.out = out.buf[:0]
	if err == nil {
		err = out.err
	}
	return m.result(sc.counts, s.n, out.n), err
}

// IsJSON reports whether a Content-Type is JSON: application/json,
// text/json, or any type with the +json suffix.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// asciiCharsets are the charsets whose text the detectors can read.
var asciiCharsets = [...]string{"", "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "windows-1252"}

// Body masks a decoded body (see Decode) by its Content-Type: JSON bodies
// with JSON, others with Text. It fails with ErrNeedsJSON when m has JSON
// path rules and the body is not JSON, and with an *EncodingError for a
// charset the detectors cannot read (UTF-16, ...). An unparsable
// Content-Type is treated as text.
func (m *Masker) Body(ctx context.Context, dst io.Writer, src io.Reader, contentType string) (Result, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, params = "", nil
	}
	cs := strings.ToLower(params["charset"])
	ok := false
	for _, a := range asciiCharsets {
		ok = ok || cs == a
	}
	if !ok {
		return Result{}, &EncodingError{Encoding: "charset=" + cs}
	}
	if mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json") {
		return m.JSON(ctx, dst, src)
	}
	return m.Text(ctx, dst, src)
}
