// SPDX-License-Identifier: Apache-2.0

// Startup-phase messages: StartupMessage, SSLRequest, GSSENCRequest and
// CancelRequest, which have no type byte.

package pgwire

import (
	"fmt"
)

// Request codes and protocol versions of the startup phase.
const (
	ProtocolVersion30 = 3 << 16
	ProtocolVersion32 = 3<<16 | 2
	sslRequestCode    = 1234<<16 | 5679
	gssEncRequestCode = 1234<<16 | 5680
	cancelRequestCode = 1234<<16 | 5678
)

// StartupMessage opens a session: a protocol version and parameters
// (user, database, options, application_name, ...), in the order sent.
type StartupMessage struct {
	ProtocolVersion uint32
	Params          []Param
}

// Param is one startup parameter.
type Param struct{ Name, Value string }

// Get returns the value of the parameter name, "" when absent.
func (m *StartupMessage) Get(name string) string {
	for _, p := range m.Params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Set sets the parameter name, adding it when absent.
func (m *StartupMessage) Set(name, value string) {
	for i, p := range m.Params {
		if p.Name == name {
			m.Params[i].Value = value
			return
		}
	}
	m.Params = append(m.Params, Param{name, value})
}

// Decode decodes a startup body (from Reader.ReadStartup).
func (m *StartupMessage) Decode(body []byte) error {
	c := newCursor(body)
	m.ProtocolVersion = c.u32()
	if m.ProtocolVersion>>16 != 3 {
		return malformed("StartupMessage", fmt.Sprintf("protocol version %d.%d", m.ProtocolVersion>>16, m.ProtocolVersion&0xffff))
	}
	m.Params = m.Params[:0]
	for c.ok {
		name := c.cstr()
		if !c.ok {
			break
		}
		if name == "" {
			if len(c.b) != 0 {
				c.ok = false
			}
			break
		}
		value := c.cstr()
		m.Params = append(m.Params, Param{name, value})
	}
	if !c.done() {
		return malformed("StartupMessage", "parameters are not NUL-terminated pairs ending with an empty name")
	}
	return nil
}

// Encode appends the message.
func (m *StartupMessage) Encode(dst []byte) []byte {
	dst, off := begin(dst, 0)
	dst = appendU32(dst, m.ProtocolVersion)
	for _, p := range m.Params {
		dst = appendCStr(appendCStr(dst, p.Name), p.Value)
	}
	return finish(append(dst, 0), off)
}

// SSLRequest asks the server to switch to TLS; it answers one byte, 'S'
// or 'N'.
type SSLRequest struct{}

// Encode appends the message.
func (SSLRequest) Encode(dst []byte) []byte { return appendU32(appendU32(dst, 8), sslRequestCode) }

// GSSENCRequest asks for GSSAPI encryption; it answers 'G' or 'N'.
type GSSENCRequest struct{}

// Encode appends the message.
func (GSSENCRequest) Encode(dst []byte) []byte {
	return appendU32(appendU32(dst, 8), gssEncRequestCode)
}

// CancelRequest asks the server to cancel the query running in the
// backend identified by PID and Key (BackendKeyData). Key is 4 bytes in
// protocol 3.0 and up to 256 in 3.2.
type CancelRequest struct {
	PID uint32
	Key []byte
}

// Decode decodes a startup body holding a CancelRequest.
func (m *CancelRequest) Decode(body []byte) error {
	c := newCursor(body)
	if c.u32() != cancelRequestCode {
		return malformed("CancelRequest", "wrong request code")
	}
	m.PID = c.u32()
	m.Key = c.rest()
	if !c.ok || len(m.Key) < 4 || len(m.Key) > 256 {
		return malformed("CancelRequest", fmt.Sprintf("key of %d bytes", len(m.Key)))
	}
	return nil
}

// Encode appends the message.
func (m *CancelRequest) Encode(dst []byte) []byte {
	dst, off := begin(dst, 0)
	dst = appendU32(appendU32(dst, cancelRequestCode), m.PID)
	return finish(append(dst, m.Key...), off)
}

// DecodeStartup decodes a startup-phase body (from Reader.ReadStartup)
// into *StartupMessage, SSLRequest, GSSENCRequest or *CancelRequest.
func DecodeStartup(body []byte) (any, error) {
	c := newCursor(body)
	code := c.u32()
	if !c.ok {
		return nil, malformed("startup message", "shorter than 4 bytes")
	}
	switch code {
	case sslRequestCode:
		if len(body) != 4 {
			return nil, malformed("SSLRequest", "has a body")
		}
		return SSLRequest{}, nil
	case gssEncRequestCode:
		if len(body) != 4 {
			return nil, malformed("GSSENCRequest", "has a body")
		}
		return GSSENCRequest{}, nil
	case cancelRequestCode:
		m := &CancelRequest{}
		return m, m.Decode(body)
	}
	m := &StartupMessage{}
	return m, m.Decode(body)
}
