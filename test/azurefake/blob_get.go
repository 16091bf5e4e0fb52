// SPDX-License-Identifier: Apache-2.0

// Get Blob and Get Blob Properties: conditions, ranges, the properties'
// headers, and the streamed content.

package azurefake

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// getBlob answers GET (content, or a range of it) and HEAD (properties).
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, b Blob) {
	etag := b.ETag()
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != etag {
		blobError(w, r, http.StatusPreconditionFailed, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.", "")
		return
	}
	if m := r.Header.Get("If-None-Match"); m != "" && (m == "*" || m == etag) {
		blobHeaders(w.Header(), b)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	rg, ok, err := requestedRange(r, b.Size)
	if err != nil {
		if errors.Is(err, errUnsatisfiable) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", b.Size))
			blobError(w, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The range specified is invalid for the current size of the resource.", "")
			return
		}
		blobError(w, r, http.StatusBadRequest, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.", "")
		return
	}
	wantMD5 := strings.EqualFold(r.Header.Get("x-ms-range-get-content-md5"), "true")
	if wantMD5 && (!ok || rg.count() > 4<<20) {
		blobError(w, r, http.StatusBadRequest, "InvalidHeaderValue",
			"x-ms-range-get-content-md5 needs a range of at most 4 MiB.", "")
		return
	}
	h := w.Header()
	blobHeaders(h, b)
	if r.Method == http.MethodHead {
		h.Set("Content-Length", strconv.FormatInt(b.Size, 10))
		h.Set("x-ms-access-tier", "Hot")
		h.Set("x-ms-access-tier-inferred", "true")
		w.WriteHeader(http.StatusOK)
		return
	}
	status := http.StatusOK
	if !ok {
		rg = byteRange{0, b.Size}
	} else {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rg.start, rg.end-1, b.Size))
	}
	if wantMD5 {
		h.Set("Content-MD5", rangeMD5(b, rg))
	}
	h.Set("Content-Length", strconv.FormatInt(rg.count(), 10))
	w.WriteHeader(status)
	// Streamed: never more than one buffer of the blob in memory. A
	// client that goes away ends the copy with a write error.
	_, _ = io.CopyBuffer(writerOnly{w}, b.rangeReader(rg.start, rg.end), make([]byte, 256<<10))
}

// blobHeaders sets the properties every Get Blob and Get Blob Properties
// response carries.
func blobHeaders(h http.Header, b Blob) {
	created := blobCreated()
	h.Set("Content-Type", b.ContentType)
	h.Set("ETag", b.ETag())
	h.Set("Last-Modified", created.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-ms-request-id", newGUID())
	h.Set("x-ms-creation-time", created.UTC().Format(http.TimeFormat))
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-server-encrypted", "true")
}

// writerOnly hides the ResponseWriter's ReadFrom, so that the copy uses
// the given buffer.
type writerOnly struct{ io.Writer }

// blobCreated is when every seeded blob was created and last modified: a
// fixed time, so that a blob's properties are the same in every run.
func blobCreated() time.Time { return time.Date(2025, time.March, 3, 9, 30, 0, 0, time.UTC) }
