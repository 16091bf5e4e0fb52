// SPDX-License-Identifier: Apache-2.0

// Frontend authentication messages, all of type 'p': PasswordMessage,
// SASLInitialResponse and SASLResponse.

package pgwire

// PasswordMessage carries a password: cleartext, or md5-hashed. Password
// points into the decoded body.
type PasswordMessage struct{ Password []byte }

// Decode decodes a PasswordMessage body.
func (m *PasswordMessage) Decode(body []byte) error {
	c := newCursor(body)
	n := len(body) - 1
	if n < 0 || body[n] != 0 {
		return malformed("PasswordMessage", "not NUL-terminated")
	}
	m.Password = c.bytes(n)
	for _, b := range m.Password {
		if b == 0 {
			return malformed("PasswordMessage", "NUL inside the password")
		}
	}
	return nil
}

// Encode appends the message.
func (m *PasswordMessage) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypePassword)
	return finish(append(append(dst, m.Password...), 0), off)
}

// SASLInitialResponse starts a SASL exchange with the chosen mechanism.
// Data is nil when the client sent none (length -1).
type SASLInitialResponse struct {
	Mechanism string
	Data      []byte
}

// Decode decodes a SASLInitialResponse body.
func (m *SASLInitialResponse) Decode(body []byte) error {
	c := newCursor(body)
	m.Mechanism = c.cstr()
	l := int32(c.u32())
	m.Data = nil
	if l != -1 {
		m.Data = c.bytes(int(l))
		if m.Data == nil && c.ok {
			m.Data = []byte{}
		}
	}
	if !c.done() {
		return malformed("SASLInitialResponse", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *SASLInitialResponse) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypePassword)
	dst = appendCStr(dst, m.Mechanism)
	if m.Data == nil {
		dst = appendU32(dst, 0xffffffff)
	} else {
		dst = append(appendU32(dst, uint32(len(m.Data))), m.Data...)
	}
	return finish(dst, off)
}

// SASLResponse carries a later SASL message of the client.
type SASLResponse struct{ Data []byte }

// Decode decodes a SASLResponse body.
func (m *SASLResponse) Decode(body []byte) error {
	m.Data = body
	return nil
}

// Encode appends the message.
func (m *SASLResponse) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypePassword)
	return finish(append(dst, m.Data...), off)
}
