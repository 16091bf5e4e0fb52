// SPDX-License-Identifier: Apache-2.0

// The request as it goes upstream on HTTP/1.1: written by this package
// rather than by http.Request.Write, which costs as much CPU as the rest
// of the header handling (it sorts and filters the headers through
// reflection-free but allocating helpers, and probes bodies of unknown
// length by reading a byte ahead).

package https

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// errBodyLength is a request body that ended before its Content-Length or
// went on past it.
var errBodyLength = errors.New("request body length does not match its Content-Length")

// writeRequest writes req to bw as an HTTP/1.1 request to its URL's path
// and query, with req.Host as Host, and streams its body: framed by
// req.ContentLength when that is known, chunked when it is not (-1). It
// does not flush bw at the end. The header a workload sent has passed
// net/http's checks already; they are checked again here, because a
// header Interlock sets (the injected credential) has not, and a CR or LF
// in either would let one request smuggle another.
//
// Hop-by-hop headers are the caller's to remove; Content-Length and
// Transfer-Encoding in req.Header are ignored, as Request.Write ignores
// them: the framing is the body's. Trailers are not sent.
func writeRequest(bw *bufio.Writer, req *http.Request) error {
	uri := req.URL.RequestURI()
	if !validMethod(req.Method) || uri == "" || strings.ContainsAny(uri, " \r\n") {
		return fmt.Errorf("invalid request line %q %q", req.Method, uri)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return fmt.Errorf("invalid Host %q", host)
	}
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	length := req.ContentLength
	if body == nil {
		length = 0
	}
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid value of header %s", k)
			}
			if k == "User-Agent" && v == "" {
				continue // the workload sent none: none goes upstream
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	switch {
	case length > 0:
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(length, 10))
		bw.WriteString("\r\n")
	case length < 0:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case bodyExpected(req.Method):
		// Azure answers 411 to a POST without a length, even an empty one.
		bw.WriteString("Content-Length: 0\r\n")
	}
	if _, err := bw.WriteString("\r\n"); err != nil {
		return err
	}
	switch {
	case length > 0:
		n, err := io.Copy(bw, io.LimitReader(body, length))
		if err != nil {
			return fmt.Errorf("request body: %w", err)
		}
		if n < length {
			return fmt.Errorf("%w: %d bytes of %d", errBodyLength, n, length)
		}
		// A body that goes on past its length is the workload's framing
		// error (HTTP/2: its DATA frames said more than content-length);
		// net/http's server refuses it before that, so this is a guard.
		var one [1]byte
		if n, _ := body.Read(one[:]); n > 0 {
			return fmt.Errorf("%w: more than %d bytes", errBodyLength, length)
		}
	case length < 0:
		if err := writeChunked(bw, body); err != nil {
			return err
		}
	}
	return nil
}

// writeChunked streams body as chunks, one per read, and the last chunk.
func writeChunked(bw *bufio.Writer, body io.Reader) error {
	buf := make([]byte, 16<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			bw.WriteString(strconv.FormatInt(int64(n), 16))
			bw.WriteString("\r\n")
			bw.Write(buf[:n])
			if _, werr := bw.WriteString("\r\n"); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			_, err := bw.WriteString("0\r\n\r\n")
			return err
		}
		if err != nil {
			return fmt.Errorf("request body: %w", err)
		}
	}
}

// bodyExpected says whether a request of this method is sent with a
// Content-Length even when its body is empty, as net/http's client does.
func bodyExpected(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return true
	}
	return false
}

// validMethod says whether m is an HTTP token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !httpguts.IsTokenRune(rune(m[i])) {
			return false
		}
	}
	return true
}
