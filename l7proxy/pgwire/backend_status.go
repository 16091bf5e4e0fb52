// SPDX-License-Identifier: Apache-2.0

// Backend status messages: ParameterStatus, BackendKeyData, ReadyForQuery,
// NotificationResponse and NegotiateProtocolVersion.

package pgwire

import "fmt"

// Backend status message types.
const (
	TypeParameterStatus          = 'S'
	TypeBackendKeyData           = 'K'
	TypeReadyForQuery            = 'Z'
	TypeNotificationResponse     = 'A'
	TypeNegotiateProtocolVersion = 'v'
)

// Transaction status of ReadyForQuery.
const (
	TxIdle   = 'I' // not in a transaction block
	TxActive = 'T' // in a transaction block
	TxFailed = 'E' // in a failed transaction block
)

// ParameterStatus reports a run-time parameter's value.
type ParameterStatus struct{ Name, Value string }

// Decode decodes a ParameterStatus body.
func (m *ParameterStatus) Decode(body []byte) error {
	c := newCursor(body)
	m.Name = c.cstr()
	m.Value = c.cstr()
	if !c.done() {
		return malformed("ParameterStatus", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *ParameterStatus) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeParameterStatus)
	return finish(appendCStr(appendCStr(dst, m.Name), m.Value), off)
}

// BackendKeyData is the key a client cancels queries with. Key is 4
// bytes in protocol 3.0, up to 256 in 3.2.
type BackendKeyData struct {
	PID uint32
	Key []byte
}

// Decode decodes a BackendKeyData body.
func (m *BackendKeyData) Decode(body []byte) error {
	c := newCursor(body)
	m.PID = c.u32()
	m.Key = append(m.Key[:0], c.rest()...)
	if !c.ok || len(m.Key) < 4 || len(m.Key) > 256 {
		return malformed("BackendKeyData", fmt.Sprintf("key of %d bytes", len(m.Key)))
	}
	return nil
}

// Encode appends the message.
func (m *BackendKeyData) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeBackendKeyData)
	return finish(append(appendU32(dst, m.PID), m.Key...), off)
}

// ReadyForQuery says the server is ready, with the transaction status
// (TxIdle, TxActive, TxFailed).
type ReadyForQuery struct{ Status byte }

// Decode decodes a ReadyForQuery body.
func (m *ReadyForQuery) Decode(body []byte) error {
	if len(body) != 1 || (body[0] != TxIdle && body[0] != TxActive && body[0] != TxFailed) {
		return malformed("ReadyForQuery", "bad status")
	}
	m.Status = body[0]
	return nil
}

// Encode appends the message.
func (m *ReadyForQuery) Encode(dst []byte) []byte {
	return append(appendU32(append(dst, TypeReadyForQuery), 5), m.Status)
}

// NotificationResponse delivers a NOTIFY.
type NotificationResponse struct {
	PID              uint32
	Channel, Payload string
}

// Decode decodes a NotificationResponse body.
func (m *NotificationResponse) Decode(body []byte) error {
	c := newCursor(body)
	m.PID = c.u32()
	m.Channel = c.cstr()
	m.Payload = c.cstr()
	if !c.done() {
		return malformed("NotificationResponse", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *NotificationResponse) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeNotificationResponse)
	return finish(appendCStr(appendCStr(appendU32(dst, m.PID), m.Channel), m.Payload), off)
}

// NegotiateProtocolVersion tells a client the newest minor version the
// server speaks and the protocol options (_pq_.*) it did not recognise.
type NegotiateProtocolVersion struct {
	NewestMinor  uint32
	Unrecognized []string
}

// Decode decodes a NegotiateProtocolVersion body.
func (m *NegotiateProtocolVersion) Decode(body []byte) error {
	c := newCursor(body)
	m.NewestMinor = c.u32()
	n := int(int32(c.u32()))
	if !c.ok || n < 0 || n > len(c.b) {
		return malformed("NegotiateProtocolVersion", "bad option count")
	}
	m.Unrecognized = m.Unrecognized[:0]
	for range n {
		m.Unrecognized = append(m.Unrecognized, c.cstr())
	}
	if !c.done() {
		return malformed("NegotiateProtocolVersion", "bad layout")
	}
	return nil
}

// Encode appends the message.
func (m *NegotiateProtocolVersion) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeNegotiateProtocolVersion)
	dst = appendU32(appendU32(dst, m.NewestMinor), uint32(len(m.Unrecognized)))
	for _, o := range m.Unrecognized {
		dst = appendCStr(dst, o)
	}
	return finish(dst, off)
}
