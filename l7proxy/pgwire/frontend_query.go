// SPDX-License-Identifier: Apache-2.0

// Frontend messages of the simple and extended query protocols: Query,
// Parse, Bind, Describe, Execute, Sync, Flush, Close, Terminate and the
// fast-path FunctionCall.

package pgwire

import "fmt"

// Frontend message types.
const (
	TypeQuery        = 'Q'
	TypeParse        = 'P'
	TypeBind         = 'B'
	TypeDescribe     = 'D'
	TypeExecute      = 'E'
	TypeSync         = 'S'
	TypeFlush        = 'H'
	TypeClose        = 'C'
	TypeTerminate    = 'X'
	TypeFunctionCall = 'F'
	TypePassword     = 'p' // PasswordMessage, SASLInitialResponse, SASLResponse
)

// Query is a simple-protocol query: one or more statements.
type Query struct{ String string }

// Decode decodes a Query body.
func (m *Query) Decode(body []byte) error {
	c := newCursor(body)
	m.String = c.cstr()
	if !c.done() {
		return malformed("Query", "not one NUL-terminated string")
	}
	return nil
}

// Encode appends the message.
func (m *Query) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeQuery)
	return finish(appendCStr(dst, m.String), off)
}

// Parse prepares a statement: Name ("" is the unnamed statement), its
// text, and the type OIDs of parameters the client specifies.
type Parse struct {
	Name      string
	Query     string
	ParamOIDs []uint32
}

// Decode decodes a Parse body.
func (m *Parse) Decode(body []byte) error {
	c := newCursor(body)
	m.Name = c.cstr()
	m.Query = c.cstr()
	n := c.count(4)
	m.ParamOIDs = m.ParamOIDs[:0]
	for range n {
		m.ParamOIDs = append(m.ParamOIDs, c.u32())
	}
	if !c.done() {
		return malformed("Parse", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *Parse) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeParse)
	dst = appendCStr(appendCStr(dst, m.Name), m.Query)
	dst = appendU16(dst, uint16(len(m.ParamOIDs)))
	for _, o := range m.ParamOIDs {
		dst = appendU32(dst, o)
	}
	return finish(dst, off)
}

// Bind makes a portal of a prepared statement with parameter values. A
// nil element of Params is NULL. Params point into the decoded body.
type Bind struct {
	Portal        string
	Statement     string
	ParamFormats  []int16
	Params        [][]byte
	ResultFormats []int16
}

// Decode decodes a Bind body.
func (m *Bind) Decode(body []byte) error {
	c := newCursor(body)
	m.Portal = c.cstr()
	m.Statement = c.cstr()
	m.ParamFormats = c.formats(m.ParamFormats)
	n := c.count(4)
	m.Params = m.Params[:0]
	for range n {
		l := int32(c.u32())
		if l == -1 {
			m.Params = append(m.Params, nil)
			continue
		}
		v := c.bytes(int(l))
		if v == nil && c.ok {
			v = []byte{}
		}
		m.Params = append(m.Params, v)
	}
	m.ResultFormats = c.formats(m.ResultFormats)
	if !c.done() {
		return malformed("Bind", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *Bind) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeBind)
	dst = appendCStr(appendCStr(dst, m.Portal), m.Statement)
	dst = appendFormats(dst, m.ParamFormats)
	dst = appendU16(dst, uint16(len(m.Params)))
	for _, p := range m.Params {
		if p == nil {
			dst = appendU32(dst, 0xffffffff)
			continue
		}
		dst = append(appendU32(dst, uint32(len(p))), p...)
	}
	return finish(appendFormats(dst, m.ResultFormats), off)
}

// ParamFormat returns the format of parameter i (0 text, 1 binary).
func (m *Bind) ParamFormat(i int) int16 { return formatOf(m.ParamFormats, i) }

// ResultFormat returns the format of result column i.
func (m *Bind) ResultFormat(i int) int16 { return formatOf(m.ResultFormats, i) }

// formatOf applies the protocol's rule: no codes means text for all, one
// code applies to all, else one code per column.
func formatOf(f []int16, i int) int16 {
	switch {
	case len(f) == 0:
		return 0
	case len(f) == 1:
		return f[0]
	case i < len(f):
		return f[i]
	}
	return 0
}

// Describe asks for the description of a prepared statement (Kind 'S') or
// a portal ('P').
type Describe struct {
	Kind byte
	Name string
}

// Decode decodes a Describe body.
func (m *Describe) Decode(body []byte) (err error) {
	m.Kind, m.Name, err = decodeKindName("Describe", body)
	return err
}

// Encode appends the message.
func (m *Describe) Encode(dst []byte) []byte {
	return encodeKindName(dst, TypeDescribe, m.Kind, m.Name)
}

// Close closes a prepared statement (Kind 'S') or portal ('P').
type Close struct {
	Kind byte
	Name string
}

// Decode decodes a Close body.
func (m *Close) Decode(body []byte) (err error) {
	m.Kind, m.Name, err = decodeKindName("Close", body)
	return err
}

// Encode appends the message.
func (m *Close) Encode(dst []byte) []byte {
	return encodeKindName(dst, TypeClose, m.Kind, m.Name)
}

// decodeKindName decodes the body Describe and Close share: a kind ('S'
// a prepared statement, 'P' a portal) and a name.
func decodeKindName(msg string, body []byte) (kind byte, name string, err error) {
	c := newCursor(body)
	kind = c.u8()
	name = c.cstr()
	if !c.done() || (kind != 'S' && kind != 'P') {
		return 0, "", malformed(msg, "bad layout or kind")
	}
	return kind, name, nil
}

// encodeKindName appends a message of type typ with Describe and Close's
// body.
func encodeKindName(dst []byte, typ, kind byte, name string) []byte {
	dst, off := begin(dst, typ)
	return finish(appendCStr(append(dst, kind), name), off)
}

// Execute runs a portal, returning at most MaxRows rows (0: all).
type Execute struct {
	Portal  string
	MaxRows uint32
}

// Decode decodes an Execute body.
func (m *Execute) Decode(body []byte) error {
	c := newCursor(body)
	m.Portal = c.cstr()
	m.MaxRows = c.u32()
	if !c.done() {
		return malformed("Execute", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *Execute) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeExecute)
	return finish(appendU32(appendCStr(dst, m.Portal), m.MaxRows), off)
}

// Sync ends an extended-protocol batch.
type Sync struct{}

// Flush asks the server to send what it has buffered.
type Flush struct{}

// Terminate ends the session.
type Terminate struct{}

// Encode appends the message.
func (Sync) Encode(dst []byte) []byte { return empty(dst, TypeSync) }

// Encode appends the message.
func (Flush) Encode(dst []byte) []byte { return empty(dst, TypeFlush) }

// Encode appends the message.
func (Terminate) Encode(dst []byte) []byte { return empty(dst, TypeTerminate) }

// empty appends a message without a body.
func empty(dst []byte, typ byte) []byte { return appendU32(append(dst, typ), 4) }

// decodeEmpty checks that a body-less message has no body.
func decodeEmpty(name string, body []byte) error {
	if len(body) != 0 {
		return malformed(name, fmt.Sprintf("%d unexpected bytes", len(body)))
	}
	return nil
}

// FunctionCall is the fast-path interface: it calls a function by OID.
type FunctionCall struct {
	Function     uint32
	ArgFormats   []int16
	Args         [][]byte
	ResultFormat int16
}

// Decode decodes a FunctionCall body.
func (m *FunctionCall) Decode(body []byte) error {
	c := newCursor(body)
	m.Function = c.u32()
	m.ArgFormats = c.formats(m.ArgFormats)
	n := c.count(4)
	m.Args = m.Args[:0]
	for range n {
		l := int32(c.u32())
		if l == -1 {
			m.Args = append(m.Args, nil)
			continue
		}
		v := c.bytes(int(l))
		if v == nil && c.ok {
			v = []byte{}
		}
		m.Args = append(m.Args, v)
	}
	m.ResultFormat = int16(c.u16())
	if !c.done() {
		return malformed("FunctionCall", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *FunctionCall) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeFunctionCall)
	dst = appendFormats(appendU32(dst, m.Function), m.ArgFormats)
	dst = appendU16(dst, uint16(len(m.Args)))
	for _, p := range m.Args {
		if p == nil {
			dst = appendU32(dst, 0xffffffff)
			continue
		}
		dst = append(appendU32(dst, uint32(len(p))), p...)
	}
	return finish(appendU16(dst, uint16(m.ResultFormat)), off)
}
