// SPDX-License-Identifier: Apache-2.0

// The ClientHello body parser: the fields before the extensions, then the
// server_name and ALPN extensions, checked as crypto/tls checks them.

package tlsterm

import (
	"fmt"
	"strings"
)

// Extension types Peek reads.
const (
	extServerName = 0
	extALPN       = 16
)

// cursor reads big-endian, length-prefixed fields from a byte slice. A
// read past the end empties it and reports false.
type cursor []byte

func (c *cursor) u8() (int, bool) {
	if len(*c) < 1 {
		return 0, false
	}
	v := int((*c)[0])
	*c = (*c)[1:]
	return v, true
}

func (c *cursor) u16() (int, bool) {
	if len(*c) < 2 {
		return 0, false
	}
	v := int((*c)[0])<<8 | int((*c)[1])
	*c = (*c)[2:]
	return v, true
}

// bytes returns the next n bytes.
func (c *cursor) bytes(n int) (cursor, bool) {
	if n < 0 || len(*c) < n {
		*c = nil
		return nil, false
	}
	v := (*c)[:n:n]
	*c = (*c)[n:]
	return v, true
}

// prefixed8 and prefixed16 return a field with a one or two byte length.
func (c *cursor) prefixed8() (cursor, bool) {
	n, ok := c.u8()
	if !ok {
		return nil, false
	}
	return c.bytes(n)
}

func (c *cursor) prefixed16() (cursor, bool) {
	n, ok := c.u16()
	if !ok {
		return nil, false
	}
	return c.bytes(n)
}

// parseHello parses a ClientHello body (after the handshake header) into
// h's ServerName and ALPN.
func parseHello(body []byte, h *Hello) error {
	c := cursor(body)
	if _, ok := c.bytes(2 + 32); !ok { // legacy_version, random
		return fmt.Errorf("%w: short", ErrMalformed)
	}
	if sid, ok := c.prefixed8(); !ok || len(sid) > 32 {
		return fmt.Errorf("%w: session id", ErrMalformed)
	}
	if cs, ok := c.prefixed16(); !ok || len(cs)%2 != 0 {
		return fmt.Errorf("%w: cipher suites", ErrMalformed)
	}
	if _, ok := c.prefixed8(); !ok {
		return fmt.Errorf("%w: compression methods", ErrMalformed)
	}
	if len(c) == 0 {
		return nil // no extensions (SSL 3.0 style)
	}
	exts, ok := c.prefixed16()
	if !ok || len(c) != 0 {
		return fmt.Errorf("%w: extensions", ErrMalformed)
	}
	var seenSNI, seenALPN bool
	for len(exts) > 0 {
		typ, ok := exts.u16()
		if !ok {
			return fmt.Errorf("%w: extension type", ErrMalformed)
		}
		data, ok := exts.prefixed16()
		if !ok {
			return fmt.Errorf("%w: extension %d", ErrMalformed, typ)
		}
		switch typ {
		case extServerName:
			if seenSNI {
				return fmt.Errorf("%w: duplicate server_name", ErrMalformed)
			}
			seenSNI = true
			if err := parseSNI(data, h); err != nil {
				return err
			}
		case extALPN:
			if seenALPN {
				return fmt.Errorf("%w: duplicate ALPN", ErrMalformed)
			}
			seenALPN = true
			if err := parseALPN(data, h); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseSNI reads the server_name extension (RFC 6066 3): a non-empty list
// of non-empty names, at most one host_name, without a trailing dot.
func parseSNI(data cursor, h *Hello) error {
	list, ok := data.prefixed16()
	if !ok || len(list) == 0 || len(data) != 0 {
		return fmt.Errorf("%w: server_name list", ErrMalformed)
	}
	for len(list) > 0 {
		typ, ok := list.u8()
		if !ok {
			return fmt.Errorf("%w: server_name type", ErrMalformed)
		}
		name, ok := list.prefixed16()
		if !ok || len(name) == 0 {
			return fmt.Errorf("%w: server_name", ErrMalformed)
		}
		if typ != 0 {
			continue
		}
		if h.ServerName != "" {
			return fmt.Errorf("%w: two host names", ErrMalformed)
		}
		h.ServerName = string(name)
		if strings.HasSuffix(h.ServerName, ".") {
			return fmt.Errorf("%w: host name with a trailing dot", ErrMalformed)
		}
	}
	return nil
}

// parseALPN reads the ALPN extension (RFC 7301 3.1): a non-empty list of
// non-empty protocol names.
func parseALPN(data cursor, h *Hello) error {
	list, ok := data.prefixed16()
	if !ok || len(list) == 0 || len(data) != 0 {
		return fmt.Errorf("%w: ALPN list", ErrMalformed)
	}
	for len(list) > 0 {
		p, ok := list.prefixed8()
		if !ok || len(p) == 0 {
			return fmt.Errorf("%w: ALPN protocol", ErrMalformed)
		}
		h.ALPN = append(h.ALPN, string(p))
	}
	return nil
}
