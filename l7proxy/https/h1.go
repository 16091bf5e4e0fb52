// SPDX-License-Identifier: Apache-2.0

// HTTP/1.1 on the workload's side: one goroutine per connection reads a
// request, serves it (the upstream on a connection of its own, see
// h1upstream.go), writes the response, and reads the next. No goroutine
// hands work to another, so a request costs the four reads and writes it
// must and little else; HTTP/2 connections go to net/http's server.

package https

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
)

// Limits of the HTTP/1.1 server.
const (
	maxRequestHeader = 1 << 20          // bytes of request line and headers
	headerTimeout    = 30 * time.Second // from a request's first byte to its last header
	bodyReadTimeout  = 5 * time.Minute  // between two reads of a request body
	maxDrain         = 256 << 10        // unread request body drained to keep the connection
)

// serveH1 serves HTTP/1.1 requests on c until the workload closes it, an
// error ends it, or ctx ends.
func (h *Handler) serveH1(ctx context.Context, c *conn, dial l7proxy.Dialer) {
	defer c.tls.Close()
	up := newH1Upstream(h, c, dial)
	c.upstream = up
	defer up.CloseIdleConnections()
	stop := context.AfterFunc(ctx, func() { c.tls.Close() })
	defer stop()
	closed := context.AfterFunc(h.stop, func() { c.tls.Close() })
	defer closed()

	in := &deadlineReader{c: c.tls}
	br := bufio.NewReaderSize(in, 4<<10)
	bw := bufio.NewWriterSize(c.tls, 4<<10)
	var hr headerReader
	for {
		// Between requests the idle timeout applies; from the first byte
		// of a request to its last header, the header timeout.
		in.timeout, in.fixed = DefaultIdleTimeout, false
		if _, err := br.Peek(1); err != nil {
			return // closed by the workload, idle, or stopping
		}
		// One deadline for all of the headers, not one per read: a
		// workload trickling a byte at a time gets no longer.
		in.until(time.Now().Add(h.headerTimeout()))
		r, err := hr.readRequest(br, maxRequestHeader)
		if err != nil {
			h.badRequest(bw, err)
			return
		}
		in.timeout, in.fixed = bodyReadTimeout, false
		var body *h1Body
		if r.Body != nil && r.Body != http.NoBody {
			body = &h1Body{rc: r.Body}
			r.Body = body
		}
		if !h.prepareH1(bw, r, c) {
			return
		}
		w := &h1Writer{bw: bw, req: r, hdr: make(http.Header, 8)}
		if !h.serveH1Request(ctx, c, w, r) {
			return
		}
		// The response's record goes to the sink with the next request's
		// decision (recordResponse), which waits until both are durable
		// and fails if they could not be: nothing unrecorded passes.
		err = w.finish()
		if err != nil || w.closeAfter {
			return
		}
		// What the handler left of the body is read and dropped, up to a
		// bound, so that the next request starts where it should.
		if body != nil && !body.eof {
			n, err := io.Copy(io.Discard, io.LimitReader(body.rc, maxDrain+1))
			if err != nil || n > maxDrain {
				return
			}
		}
	}
}

// prepareH1 completes what net/http's server would do with a request
// before its handler: Host, Expect, the context. It returns false when it
// answered the request itself and the connection ends.
func (h *Handler) prepareH1(bw *bufio.Writer, r *http.Request, c *conn) bool {
	if r.Host == "" {
		if r.ProtoAtLeast(1, 1) {
			h.badRequest(bw, errors.New("missing required Host header"))
			return false
		}
		r.Host = c.sni
	}
	if r.URL.IsAbs() {
		// A proxy request line (GET https://host/path): this is not a
		// forward proxy, the target is the host it dialed.
		r.URL.Scheme, r.URL.Host = "", ""
	}
	if e := r.Header.Get("Expect"); e != "" {
		if !strings.EqualFold(e, "100-continue") || !r.ProtoAtLeast(1, 1) {
			writeStatus(bw, http.StatusExpectationFailed)
			return false
		}
		// Interlock answers 100 Continue itself when the handler first
		// reads the body; upstream never sees the expectation.
		r.Header.Del("Expect")
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &continueReader{r: r.Body, bw: bw}
		}
	}
	return true
}

// serveH1Request serves one request and says whether the connection may
// go on. A handler that aborts its response (http.ErrAbortHandler: a
// masked body failed half way) ends the connection, so that the workload
// does not take part of a body for all of it.
func (h *Handler) serveH1Request(ctx context.Context, c *conn, w *h1Writer, r *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			ok = false
			if p != http.ErrAbortHandler {
				h.log.Error("panic serving a request", "host", r.Host, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			}
		}
	}()
	h.exchange(c, w, r.WithContext(ctx))
	return true
}

// headerTimeout is the time a request's headers may take from their first
// byte.
func (h *Handler) headerTimeout() time.Duration {
	if h.hdrTimeout > 0 {
		return h.hdrTimeout
	}
	return headerTimeout
}

// badRequest answers a request that could not be read, as net/http's
// server would, and logs why.
func (h *Handler) badRequest(bw *bufio.Writer, err error) {
	var ne net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) {
		return // nothing to answer: the connection is gone or timed out
	}
	h.log.Debug("bad HTTP/1.1 request", "err", err)
	switch {
	case errors.Is(err, errHeaderTooLarge):
		writeStatus(bw, http.StatusRequestHeaderFieldsTooLarge)
	case errors.Is(err, errUnsupportedTE):
		writeStatus(bw, http.StatusNotImplemented)
	default:
		writeStatus(bw, http.StatusBadRequest)
	}
}

// writeStatus writes a bodiless response that closes the connection.
func writeStatus(bw *bufio.Writer, status int) {
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status, http.StatusText(status))
	_ = bw.Flush()
}

// h1Writer is the http.ResponseWriter of one HTTP/1.1 request. It frames
// the body by the Content-Length the handler set, or chunked, or (HTTP/1.0)
// by closing the connection.
type h1Writer struct {
	bw  *bufio.Writer
	req *http.Request
	hdr http.Header

	wroteHeader bool
	chunked     bool
	noBody      bool  // HEAD, 204, 304
	remain      int64 // body bytes still owed by Content-Length; -1 when not framed by it
	closeAfter  bool
	err         error
}

func (w *h1Writer) Header() http.Header { return w.hdr }

func (w *h1Writer) WriteHeader(code int) {
	if w.wroteHeader || code < 200 {
		return // informational responses are not passed on
	}
	w.wroteHeader = true
	w.remain = -1
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if cl := w.hdr.Get("Content-Length"); cl != "" && !w.noBody {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			w.hdr.Del("Content-Length")
		} else {
			w.remain = n
		}
	}
	switch {
	case w.noBody || w.remain >= 0:
	case w.req.ProtoAtLeast(1, 1):
		w.chunked = true
		w.hdr["Transfer-Encoding"] = []string{"chunked"}
	default:
		w.closeAfter = true
	}
	if w.req.Close || !w.req.ProtoAtLeast(1, 1) {
		w.closeAfter = true
	}
	if w.closeAfter {
		w.hdr["Connection"] = []string{"close"}
	}
	if _, ok := w.hdr["Date"]; !ok {
		w.hdr["Date"] = []string{time.Now().UTC().Format(http.TimeFormat)}
	}
	bw := w.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(code))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(code))
	bw.WriteString("\r\n")
	for k, vs := range w.hdr {
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			}
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	_, w.err = bw.WriteString("\r\n")
}

func (w *h1Writer) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.noBody {
		return 0, http.ErrBodyNotAllowed
	}
	if len(p) == 0 {
		return 0, nil
	}
	switch {
	case w.chunked:
		w.bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		w.bw.WriteString("\r\n")
		w.bw.Write(p)
		_, w.err = w.bw.WriteString("\r\n")
		if w.err != nil {
			return 0, w.err
		}
		return len(p), nil
	case w.remain >= 0:
		if int64(len(p)) > w.remain {
			n, err := w.bw.Write(p[:w.remain])
			w.remain -= int64(n)
			if err == nil {
				err = http.ErrContentLength
			}
			return n, err
		}
		n, err := w.bw.Write(p)
		w.remain -= int64(n)
		w.err = err
		return n, err
	}
	n, err := w.bw.Write(p)
	w.err = err
	return n, err
}

// Flush sends what is buffered to the workload.
func (w *h1Writer) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err == nil {
		w.err = w.bw.Flush()
	}
}

// finish ends the response: the last chunk, and everything buffered sent.
// A body shorter than its Content-Length ends the connection.
func (w *h1Writer) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked && w.err == nil {
		_, w.err = w.bw.WriteString("0\r\n\r\n")
	}
	if w.remain > 0 {
		w.closeAfter = true
	}
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

// h1Body is a request body: the server needs to know whether the handler
// read it to its end, and a handler closing it (Request.Write does) must
// not stop the server from reading what is left.
type h1Body struct {
	rc  io.ReadCloser
	eof bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *h1Body) Close() error { return nil }

// continueReader answers "100 Continue" before the first read of a body
// whose client waits for it.
type continueReader struct {
	r    io.ReadCloser
	bw   *bufio.Writer
	sent bool
}

func (c *continueReader) Read(p []byte) (int, error) {
	if !c.sent {
		c.sent = true
		c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if err := c.bw.Flush(); err != nil {
			return 0, err
		}
	}
	return c.r.Read(p)
}

func (c *continueReader) Close() error { return c.r.Close() }

// deadlineReader reads from a connection with a deadline of timeout from
// each read: a peer that stops sending is dropped, one that is slow but
// steady is not.
type deadlineReader struct {
	c       net.Conn
	timeout time.Duration
	fixed   bool // until set a deadline that reads do not move
}

// until sets one deadline for the reads that follow, until timeout is
// set again.
func (d *deadlineReader) until(t time.Time) {
	d.fixed = true
	_ = d.c.SetReadDeadline(t)
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if !d.fixed {
		if err := d.c.SetReadDeadline(time.Now().Add(d.timeout)); err != nil {
			return 0, err
		}
	}
	return d.c.Read(p)
}
