// SPDX-License-Identifier: Apache-2.0

// ErrorResponse and NoticeResponse: typed fields (severity, SQLSTATE,
// message, ...).

package pgwire

// Types of ErrorResponse and NoticeResponse.
const (
	TypeErrorResponse  = 'E'
	TypeNoticeResponse = 'N'
)

// Field codes of ErrorResponse and NoticeResponse.
const (
	FieldSeverity         = 'S' // localised
	FieldSeverityV        = 'V' // not localised (9.6+)
	FieldCode             = 'C' // SQLSTATE
	FieldMessage          = 'M'
	FieldDetail           = 'D'
	FieldHint             = 'H'
	FieldPosition         = 'P'
	FieldInternalPosition = 'p'
	FieldInternalQuery    = 'q'
	FieldWhere            = 'W'
	FieldSchema           = 's'
	FieldTable            = 't'
	FieldColumn           = 'c'
	FieldDataType         = 'd'
	FieldConstraint       = 'n'
	FieldFile             = 'F'
	FieldLine             = 'L'
	FieldRoutine          = 'R'
)

// ErrorField is one field of an ErrorResponse or NoticeResponse.
type ErrorField struct {
	Code  byte
	Value string
}

// ErrorResponse is an error (Notice false) or a notice (Notice true):
// its fields in the order sent.
type ErrorResponse struct {
	Notice bool
	Fields []ErrorField
}

// NewError returns an ErrorResponse with severity ("ERROR", "FATAL"),
// SQLSTATE code and message.
func NewError(severity, code, message string) *ErrorResponse {
	return &ErrorResponse{Fields: []ErrorField{
		{FieldSeverity, severity}, {FieldSeverityV, severity}, {FieldCode, code}, {FieldMessage, message},
	}}
}

// Get returns the value of field code, "" when absent.
func (m *ErrorResponse) Get(code byte) string {
	for _, f := range m.Fields {
		if f.Code == code {
			return f.Value
		}
	}
	return ""
}

// Set sets field code, adding it when absent.
func (m *ErrorResponse) Set(code byte, value string) {
	for i, f := range m.Fields {
		if f.Code == code {
			m.Fields[i].Value = value
			return
		}
	}
	m.Fields = append(m.Fields, ErrorField{code, value})
}

// Decode decodes the body of an ErrorResponse (typ 'E') or NoticeResponse
// ('N').
func (m *ErrorResponse) Decode(typ byte, body []byte) error {
	c := newCursor(body)
	m.Notice = typ == TypeNoticeResponse
	m.Fields = m.Fields[:0]
	for {
		code := c.u8()
		if !c.ok || code == 0 {
			break
		}
		m.Fields = append(m.Fields, ErrorField{code, c.cstr()})
	}
	if !c.done() {
		return malformed("ErrorResponse", "fields are not terminated")
	}
	return nil
}

// Encode appends the message.
func (m *ErrorResponse) Encode(dst []byte) []byte {
	typ := byte(TypeErrorResponse)
	if m.Notice {
		typ = TypeNoticeResponse
	}
	dst, off := begin(dst, typ)
	for _, f := range m.Fields {
		dst = appendCStr(append(dst, f.Code), f.Value)
	}
	return finish(append(dst, 0), off)
}

// Error makes an ErrorResponse an error: "SEVERITY: message (SQLSTATE
// code)".
func (m *ErrorResponse) Error() string {
	return m.Get(FieldSeverity) + ": " + m.Get(FieldMessage) + " (SQLSTATE " + m.Get(FieldCode) + ")"
}
