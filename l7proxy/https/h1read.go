// SPDX-License-Identifier: Apache-2.0

// HTTP/1.1 messages as they are read: the workload's requests and the
// upstream's responses, parsed by this package rather than by
// http.ReadRequest and http.ReadResponse. Theirs allocate per header line;
// here a message's header block is read into a buffer the connection keeps,
// converted to one string, and its names and values are slices of it. The
// rules are stricter than net/http's where a proxy has reason to be
// (RFC 9112): obsolete line folding, a request with both Content-Length and
// Transfer-Encoding, any transfer coding but chunked, and a request line of
// another version than 1.0 or 1.1 are refused. A fuzz test holds the request
// parser to accept nothing net/http's refuses, and to agree with it on what
// both accept.

package https

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Errors of the parsers. A message they refuse is answered (request: 400,
// 431 or 501) or refused (response: 502), and the connection closed.
var (
	errHeaderTooLarge  = errors.New("header block too large")
	errObsFold         = errors.New("obsolete line folding in a header")
	errMalformed       = errors.New("malformed HTTP/1.1 message")
	errUnsupportedTE   = errors.New("unsupported transfer coding")
	errFramingConflict = errors.New("both Content-Length and Transfer-Encoding")
)

// maxResponseHeader bounds the status line and headers of a response.
const maxResponseHeader = 1 << 20

// headerReader reads header blocks into a buffer it keeps between
// messages. One per connection side, used by one goroutine.
type headerReader struct {
	buf []byte
}

// readBlock reads lines up to and including the empty line that ends a
// header block, at most limit bytes, and returns them as one string
// (CRLF or LF line ends kept; the empty line not included).
func (hr *headerReader) readBlock(br *bufio.Reader, limit int) (string, error) {
	b := hr.buf[:0]
	read := 0
	partial := false // the last slice read did not end its line
	for {
		line, err := br.ReadSlice('\n')
		read += len(line)
		if read > limit {
			return "", errHeaderTooLarge
		}
		if err == bufio.ErrBufferFull {
			b = append(b, line...)
			partial = true
			continue
		}
		if err != nil {
			if err == io.EOF && read > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if !partial && isEmptyLine(line) {
			if len(b) == 0 {
				// RFC 9112 §2.2 lets a server skip blank lines before a
				// request; net/http does not, and neither does this.
				return "", fmt.Errorf("%w: empty line before the message", errMalformed)
			}
			break
		}
		partial = false
		b = append(b, line...)
	}
	if cap(b) <= 64<<10 {
		hr.buf = b // a buffer grown for a huge header is not kept
	}
	return string(b), nil
}

// isEmptyLine says whether a whole line read with its end is empty.
func isEmptyLine(line []byte) bool {
	return len(line) == 1 || (len(line) == 2 && line[0] == '\r')
}

// cutLine splits s at its first line end, without the CRLF or LF.
func cutLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	line, rest = s[:i], s[i+1:]
	return strings.TrimSuffix(line, "\r"), rest
}

// parseFields parses the header lines of block into a new http.Header.
// Names are canonicalized as net/http does; values have their surrounding
// spaces and tabs trimmed. A line without a colon, a name that is not a
// token, a value with a control character, or a folded line is refused.
func parseFields(block string) (http.Header, error) {
	n := strings.Count(block, "\n")
	h := make(http.Header, n)
	slab := make([]string, n) // one allocation for every value
	for block != "" {
		var line string
		line, block = cutLine(block)
		if line == "" {
			return nil, fmt.Errorf("%w: empty line within the header", errMalformed)
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, errObsFold
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("%w: header line %.40q", errMalformed, line)
		}
		value = strings.Trim(value, " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return nil, fmt.Errorf("%w: value of header %s", errMalformed, name)
		}
		key := canonicalKey(name)
		if vs, ok := h[key]; ok {
			h[key] = append(vs, value)
			continue
		}
		slab[0] = value
		h[key] = slab[:1:1]
		slab = slab[1:]
	}
	return h, nil
}

// canonicalKey is textproto's canonical form of the valid header name k,
// without allocating when k is canonical already or a common name.
func canonicalKey(k string) string {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (upper && 'a' <= c && c <= 'z') || (!upper && 'A' <= c && c <= 'Z') {
			if ck, ok := canonicalCommon[k]; ok {
				return ck
			}
			return textproto.CanonicalMIMEHeaderKey(k)
		}
		upper = c == '-'
	}
	return k
}

// canonicalCommon maps the lower-case form of header names requests and
// responses usually carry (HTTP/2 and most Azure services send them so) to
// their canonical form.
var canonicalCommon = func() map[string]string {
	names := []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control", "Connection",
		"Content-Length", "Content-Type", "Content-Encoding", "Date", "Etag", "Expires", "Host", "If-Match",
		"If-None-Match", "Last-Modified", "Location", "Pragma", "Prefer", "Retry-After", "Server",
		"Strict-Transport-Security", "Traceparent", "Transfer-Encoding", "User-Agent", "Vary",
		"X-Content-Type-Options", "X-Ms-Client-Request-Id", "X-Ms-Correlation-Request-Id", "X-Ms-Request-Id",
		"X-Ms-Routing-Request-Id", "X-Ms-Ratelimit-Remaining-Subscription-Reads", "X-Ms-Version",
		"X-Ms-Return-Client-Request-Id", "X-Ms-Date", "X-Ms-Useragent", "X-Cache", "X-Msedge-Ref",
		"Azure-Asyncoperation", "Keep-Alive",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}()

// parseVersion parses "HTTP/1.0" or "HTTP/1.1".
func parseVersion(v string) (minor int, ok bool) {
	switch v {
	case "HTTP/1.1":
		return 1, true
	case "HTTP/1.0":
		return 0, true
	}
	return 0, false
}

// hasToken says whether a comma-separated header (Connection) lists tok.
func hasToken(vs []string, tok string) bool {
	for _, v := range vs {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), tok) {
				return true
			}
		}
	}
	return false
}

// contentLength parses the Content-Length values of hdr: -1 when there
// are none. Identical repeated values count once, and are left as one, as
// net/http leaves them.
func contentLength(hdr http.Header) (int64, error) {
	vs := hdr["Content-Length"]
	if len(vs) == 0 {
		return -1, nil
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return 0, fmt.Errorf("%w: differing Content-Length values", errMalformed)
		}
	}
	if len(vs) > 1 {
		hdr["Content-Length"] = vs[:1]
	}
	v := vs[0]
	if v == "" || len(v) > 18 {
		return 0, fmt.Errorf("%w: Content-Length %.20q", errMalformed, v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("%w: Content-Length %.20q", errMalformed, v)
		}
	}
	return strconv.ParseInt(v, 10, 64)
}

// chunkedOnly says whether the Transfer-Encoding values are exactly
// "chunked"; false with an error for any other coding.
func chunkedOnly(vs []string) (bool, error) {
	if len(vs) == 0 {
		return false, nil
	}
	if len(vs) == 1 && strings.EqualFold(strings.TrimSpace(vs[0]), "chunked") {
		return true, nil
	}
	return false, fmt.Errorf("%w: %q", errUnsupportedTE, strings.Join(vs, ", "))
}

// readRequest reads one request from br. Its body reads from br and must
// be read (or drained) before the next request is. limit bounds the
// request line and headers.
func (hr *headerReader) readRequest(br *bufio.Reader, limit int) (*http.Request, error) {
	block, err := hr.readBlock(br, limit)
	if err != nil {
		return nil, err
	}
	line, fields := cutLine(block)
	method, rest, ok1 := strings.Cut(line, " ")
	uri, proto, ok2 := strings.Cut(rest, " ")
	minor, ok3 := parseVersion(proto)
	if !ok1 || !ok2 || !ok3 || !validMethod(method) || uri == "" {
		return nil, fmt.Errorf("%w: request line %.60q", errMalformed, line)
	}
	if method == http.MethodConnect {
		return nil, fmt.Errorf("%w: CONNECT to a server that is not a proxy", errMalformed)
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, fmt.Errorf("%w: request target: %v", errMalformed, err)
	}
	hdr, err := parseFields(fields)
	if err != nil {
		return nil, err
	}
	r := &http.Request{
		Method: method, URL: u, RequestURI: uri,
		Proto: proto, ProtoMajor: 1, ProtoMinor: minor,
		Header: hdr,
	}
	if hosts := hdr["Host"]; len(hosts) > 1 {
		return nil, fmt.Errorf("%w: %d Host headers", errMalformed, len(hosts))
	} else if len(hosts) == 1 {
		if !httpguts.ValidHostHeader(hosts[0]) {
			return nil, fmt.Errorf("%w: Host %.60q", errMalformed, hosts[0])
		}
		r.Host = hosts[0]
	}
	if u.Host != "" {
		r.Host = u.Host // absolute form: its authority is the host (RFC 9112 §3.2.2)
	}
	delete(hdr, "Host")
	r.Close = hasToken(hdr["Connection"], "close") || (minor == 0 && !hasToken(hdr["Connection"], "keep-alive"))

	te := hdr["Transfer-Encoding"]
	cl, err := contentLength(hdr)
	if err != nil {
		return nil, err
	}
	switch {
	case len(te) > 0 && minor == 0:
		return nil, fmt.Errorf("%w: Transfer-Encoding in an HTTP/1.0 request", errMalformed)
	case len(te) > 0 && cl >= 0:
		return nil, errFramingConflict
	case len(te) > 0:
		if _, err := chunkedOnly(te); err != nil {
			return nil, err
		}
		delete(hdr, "Transfer-Encoding")
		r.TransferEncoding = []string{"chunked"}
		r.ContentLength = -1
		r.Body = &chunkedBody{r: httputil.NewChunkedReader(br), br: br}
	case cl > 0:
		r.ContentLength = cl
		r.Body = &lengthBody{r: br, n: cl}
	default:
		r.Body = http.NoBody
	}
	return r, nil
}

// readResponse reads the response to req from br: its status line,
// headers and the framing of its body (RFC 9112 §6.3), which reads from br.
func (hr *headerReader) readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	block, err := hr.readBlock(br, maxResponseHeader)
	if err != nil {
		return nil, err
	}
	line, fields := cutLine(block)
	proto, status, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(status, " ")
	minor, ok := parseVersion(proto)
	if !ok || len(code) != 3 || code[0] < '1' || code[0] > '5' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
		return nil, fmt.Errorf("%w: status line %.60q", errMalformed, line)
	}
	hdr, err := parseFields(fields)
	if err != nil {
		return nil, err
	}
	st := int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	resp := &http.Response{
		Status: status, StatusCode: st, Proto: proto, ProtoMajor: 1, ProtoMinor: minor,
		Header: hdr, Request: req, ContentLength: -1,
	}
	resp.Close = hasToken(hdr["Connection"], "close") || (minor == 0 && !hasToken(hdr["Connection"], "keep-alive"))
	cl, err := contentLength(hdr)
	if err != nil {
		return nil, err
	}
	chunked, err := chunkedOnly(hdr["Transfer-Encoding"])
	if err != nil {
		return nil, err
	}
	switch {
	case st < 200 || st == http.StatusNoContent || st == http.StatusNotModified || req.Method == http.MethodHead:
		// No body, whatever the headers say (a HEAD's Content-Length is
		// the GET's).
		resp.Body = http.NoBody
		if req.Method == http.MethodHead {
			resp.ContentLength = cl
		} else {
			resp.ContentLength = 0
		}
	case chunked:
		if cl >= 0 {
			// Chunked wins, and the connection is not trusted with
			// another message (RFC 9112 §6.3).
			delete(hdr, "Content-Length")
			resp.Close = true
		}
		delete(hdr, "Transfer-Encoding")
		resp.TransferEncoding = []string{"chunked"}
		resp.Body = &chunkedBody{r: httputil.NewChunkedReader(br), br: br}
	case cl == 0:
		resp.ContentLength = 0
		resp.Body = http.NoBody
	case cl > 0:
		resp.ContentLength = cl
		resp.Body = &lengthBody{r: br, n: cl}
	default:
		// Neither: the body is what comes until the server closes.
		resp.Close = true
		resp.Body = io.NopCloser(br)
	}
	return resp, nil
}

// lengthBody is a body of n bytes; it ends early with
// io.ErrUnexpectedEOF.
type lengthBody struct {
	r io.Reader
	n int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if err == io.EOF {
		if b.n > 0 {
			return n, io.ErrUnexpectedEOF
		}
		err = nil
	}
	if b.n == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

func (b *lengthBody) Close() error { return nil }

// chunkedBody is a chunked body; at its last chunk it reads and drops the
// trailer section, so that the connection is left at the next message.
type chunkedBody struct {
	r   io.Reader // httputil's chunked reader on br
	br  *bufio.Reader
	err error
}

// maxTrailer bounds a chunked body's trailer section (net/http's bound
// is its reader's buffer, 4 KiB on a server).
const maxTrailer = 4 << 10

func (b *chunkedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		err = skipTrailer(b.br)
		if err == nil {
			err = io.EOF
		}
	} else if err != nil {
		err = fmt.Errorf("chunked body: %w", err)
	}
	b.err = err
	return n, err
}

func (b *chunkedBody) Close() error { return nil }

// skipTrailer reads the trailer section after a last chunk, up to and
// including its empty line. Its fields are dropped, but must be fields:
// CRLF-terminated lines of a name, a colon and a value.
func skipTrailer(br *bufio.Reader) error {
	read := 0
	for {
		line, err := br.ReadSlice('\n')
		read += len(line)
		if read > maxTrailer || err == bufio.ErrBufferFull {
			return fmt.Errorf("chunked body trailer: %w", errHeaderTooLarge)
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("chunked body trailer: %w", err)
		}
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return fmt.Errorf("%w: trailer line without CRLF", errMalformed)
		}
		if len(line) == 2 {
			return nil
		}
		name, value, ok := strings.Cut(string(line[:len(line)-2]), ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(strings.Trim(value, " \t")) {
			return fmt.Errorf("%w: trailer line %.40q", errMalformed, line)
		}
	}
}
