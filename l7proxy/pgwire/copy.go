// SPDX-License-Identifier: Apache-2.0

// COPY messages, both directions: CopyData, CopyDone, CopyFail, and the
// server's CopyInResponse, CopyOutResponse and CopyBothResponse.

package pgwire

// COPY message types.
const (
	TypeCopyData         = 'd'
	TypeCopyDone         = 'c'
	TypeCopyFail         = 'f'
	TypeCopyInResponse   = 'G'
	TypeCopyOutResponse  = 'H'
	TypeCopyBothResponse = 'W'
)

// CopyData carries COPY data; Data points into the decoded body.
type CopyData struct{ Data []byte }

// Decode decodes a CopyData body.
func (m *CopyData) Decode(body []byte) error { m.Data = body; return nil }

// Encode appends the message.
func (m *CopyData) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeCopyData)
	return finish(append(dst, m.Data...), off)
}

// CopyDone ends COPY data.
type CopyDone struct{}

// Encode appends the message.
func (CopyDone) Encode(dst []byte) []byte { return empty(dst, TypeCopyDone) }

// CopyFail aborts a COPY FROM STDIN with a message.
type CopyFail struct{ Message string }

// Decode decodes a CopyFail body.
func (m *CopyFail) Decode(body []byte) error {
	c := newCursor(body)
	m.Message = c.cstr()
	if !c.done() {
		return malformed("CopyFail", "not one NUL-terminated string")
	}
	return nil
}

// Encode appends the message.
func (m *CopyFail) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeCopyFail)
	return finish(appendCStr(dst, m.Message), off)
}

// CopyResponse is CopyInResponse, CopyOutResponse or CopyBothResponse
// (Type says which): the overall format (0 text, 1 binary) and each
// column's.
type CopyResponse struct {
	Type          byte
	Format        byte
	ColumnFormats []int16
}

// Decode decodes the body of a copy response of type typ.
func (m *CopyResponse) Decode(typ byte, body []byte) error {
	c := newCursor(body)
	m.Type = typ
	m.Format = c.u8()
	m.ColumnFormats = c.formats(m.ColumnFormats)
	if !c.done() || m.Format > 1 {
		return malformed("CopyResponse", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *CopyResponse) Encode(dst []byte) []byte {
	dst, off := begin(dst, m.Type)
	return finish(appendFormats(append(dst, m.Format), m.ColumnFormats), off)
}
