// SPDX-License-Identifier: Apache-2.0

// Backend result messages: RowDescription, DataRow, CommandComplete,
// ParameterDescription, and the body-less ParseComplete, BindComplete,
// CloseComplete, NoData, EmptyQueryResponse and PortalSuspended.

package pgwire

import "fmt"

// Backend result message types.
const (
	TypeRowDescription       = 'T'
	TypeDataRow              = 'D'
	TypeCommandComplete      = 'C'
	TypeParameterDescription = 't'
	TypeParseComplete        = '1'
	TypeBindComplete         = '2'
	TypeCloseComplete        = '3'
	TypeNoData               = 'n'
	TypeEmptyQueryResponse   = 'I'
	TypePortalSuspended      = 's'
	TypeFunctionCallResponse = 'V'
)

// FieldDescription describes one result column.
type FieldDescription struct {
	Name         string
	TableOID     uint32
	ColumnAttr   uint16
	TypeOID      uint32
	TypeSize     int16
	TypeModifier int32
	Format       int16
}

// RowDescription describes the columns of the rows that follow.
type RowDescription struct{ Fields []FieldDescription }

// Decode decodes a RowDescription body.
func (m *RowDescription) Decode(body []byte) error {
	c := newCursor(body)
	n := c.count(19) // a name of at least its NUL, then 18 bytes
	m.Fields = m.Fields[:0]
	for range n {
		f := FieldDescription{Name: c.cstr()}
		f.TableOID = c.u32()
		f.ColumnAttr = c.u16()
		f.TypeOID = c.u32()
		f.TypeSize = int16(c.u16())
		f.TypeModifier = int32(c.u32())
		f.Format = int16(c.u16())
		m.Fields = append(m.Fields, f)
	}
	if !c.done() {
		return malformed("RowDescription", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *RowDescription) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeRowDescription)
	dst = appendU16(dst, uint16(len(m.Fields)))
	for _, f := range m.Fields {
		dst = appendCStr(dst, f.Name)
		dst = appendU32(dst, f.TableOID)
		dst = appendU16(dst, f.ColumnAttr)
		dst = appendU32(dst, f.TypeOID)
		dst = appendU16(dst, uint16(f.TypeSize))
		dst = appendU32(dst, uint32(f.TypeModifier))
		dst = appendU16(dst, uint16(f.Format))
	}
	return finish(dst, off)
}

// DataRow is one result row. A nil value is NULL; values point into the
// decoded body.
type DataRow struct{ Values [][]byte }

// Decode decodes a DataRow body, reusing m.Values.
func (m *DataRow) Decode(body []byte) error {
	c := newCursor(body)
	n := c.count(4)
	m.Values = m.Values[:0]
	for range n {
		l := int32(c.u32())
		if l == -1 {
			m.Values = append(m.Values, nil)
			continue
		}
		v := c.bytes(int(l))
		if v == nil && c.ok {
			v = body[:0:0]
		}
		m.Values = append(m.Values, v)
	}
	if !c.done() {
		return malformed("DataRow", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *DataRow) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeDataRow)
	dst = appendU16(dst, uint16(len(m.Values)))
	for _, v := range m.Values {
		if v == nil {
			dst = appendU32(dst, 0xffffffff)
			continue
		}
		dst = append(appendU32(dst, uint32(len(v))), v...)
	}
	return finish(dst, off)
}

// CommandComplete ends a statement's result with its tag ("SELECT 3").
type CommandComplete struct{ Tag string }

// Decode decodes a CommandComplete body.
func (m *CommandComplete) Decode(body []byte) error {
	c := newCursor(body)
	m.Tag = c.cstr()
	if !c.done() {
		return malformed("CommandComplete", "not one NUL-terminated string")
	}
	return nil
}

// Encode appends the message.
func (m *CommandComplete) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeCommandComplete)
	return finish(appendCStr(dst, m.Tag), off)
}

// ParameterDescription lists the parameter types of a prepared statement.
type ParameterDescription struct{ OIDs []uint32 }

// Decode decodes a ParameterDescription body.
func (m *ParameterDescription) Decode(body []byte) error {
	c := newCursor(body)
	n := int(c.u16()) // up to 65535 parameters
	if !c.ok || n*4 != len(c.b) {
		return malformed("ParameterDescription", fmt.Sprintf("%d parameters in %d bytes", n, len(c.b)))
	}
	m.OIDs = m.OIDs[:0]
	for range n {
		m.OIDs = append(m.OIDs, c.u32())
	}
	return nil
}

// Encode appends the message.
func (m *ParameterDescription) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeParameterDescription)
	dst = appendU16(dst, uint16(len(m.OIDs)))
	for _, o := range m.OIDs {
		dst = appendU32(dst, o)
	}
	return finish(dst, off)
}

// Body-less backend messages.
type (
	ParseComplete      struct{}
	BindComplete       struct{}
	CloseComplete      struct{}
	NoData             struct{}
	EmptyQueryResponse struct{}
	PortalSuspended    struct{}
)

// Encode appends the message.
func (ParseComplete) Encode(dst []byte) []byte { return empty(dst, TypeParseComplete) }

// Encode appends the message.
func (BindComplete) Encode(dst []byte) []byte { return empty(dst, TypeBindComplete) }

// Encode appends the message.
func (CloseComplete) Encode(dst []byte) []byte { return empty(dst, TypeCloseComplete) }

// Encode appends the message.
func (NoData) Encode(dst []byte) []byte { return empty(dst, TypeNoData) }

// Encode appends the message.
func (EmptyQueryResponse) Encode(dst []byte) []byte { return empty(dst, TypeEmptyQueryResponse) }

// Encode appends the message.
func (PortalSuspended) Encode(dst []byte) []byte { return empty(dst, TypePortalSuspended) }

// FunctionCallResponse is the result of a FunctionCall; Result nil is NULL.
type FunctionCallResponse struct{ Result []byte }

// Decode decodes a FunctionCallResponse body.
func (m *FunctionCallResponse) Decode(body []byte) error {
	c := newCursor(body)
	l := int32(c.u32())
	m.Result = nil
	if l != -1 {
		m.Result = c.bytes(int(l))
		if m.Result == nil && c.ok {
			m.Result = []byte{}
		}
	}
	if !c.done() {
		return malformed("FunctionCallResponse", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *FunctionCallResponse) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeFunctionCallResponse)
	if m.Result == nil {
		return finish(appendU32(dst, 0xffffffff), off)
	}
	return finish(append(appendU32(dst, uint32(len(m.Result))), m.Result...), off)
}
