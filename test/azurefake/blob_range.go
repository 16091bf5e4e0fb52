// SPDX-License-Identifier: Apache-2.0

// Blob ranges: the x-ms-range and Range headers, and the MD5 of a range
// that x-ms-range-get-content-md5 asks for.

package azurefake

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// byteRange is [start, end) of a blob.
type byteRange struct{ start, end int64 }

func (b byteRange) count() int64 { return b.end - b.start }

var (
	errUnsatisfiable = errors.New("range starts at or after the end of the blob")
	errBadRange      = errors.New("malformed range")
)

// requestedRange returns the range a request asks for, x-ms-range before
// Range, as Blob Storage reads them: "bytes=START-" or "bytes=START-END"
// (END inclusive, cut to the blob's size). ok is false when neither
// header is set.
func requestedRange(r *http.Request, size int64) (rg byteRange, ok bool, err error) {
	v := r.Header.Get("x-ms-range")
	if v == "" {
		v = r.Header.Get("Range")
	}
	if v == "" {
		return byteRange{}, false, nil
	}
	rg, err = parseRange(v, size)
	return rg, err == nil, err
}

// parseRange parses one "bytes=" range against a blob of size bytes.
func parseRange(v string, size int64) (byteRange, error) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return byteRange{}, errBadRange
	}
	from, to, ok := strings.Cut(spec, "-")
	if !ok {
		return byteRange{}, errBadRange
	}
	start, err := strconv.ParseInt(from, 10, 64)
	if err != nil || start < 0 {
		return byteRange{}, errBadRange // suffix ranges (bytes=-N) are not Blob Storage's
	}
	end := size // exclusive
	if to != "" {
		last, err := strconv.ParseInt(to, 10, 64)
		if err != nil || last < start {
			return byteRange{}, errBadRange
		}
		end = min(last+1, size)
	}
	if start >= size {
		return byteRange{}, errUnsatisfiable
	}
	return byteRange{start, end}, nil
}

// rangeMD5 is the base64 MD5 of a range of b's content, as Content-MD5
// carries it.
func rangeMD5(b Blob, rg byteRange) string {
	h := md5.New()
	_, _ = io.Copy(h, b.rangeReader(rg.start, rg.end))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
