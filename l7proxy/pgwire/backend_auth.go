// SPDX-License-Identifier: Apache-2.0

// Authentication: the server's 'R' messages, told apart by their code.

package pgwire

import (
	"fmt"
	"slices"
)

// TypeAuthentication is the type of every Authentication message.
const TypeAuthentication = 'R'

// Authentication codes.
const (
	AuthOK                = 0
	AuthKerberosV5        = 2
	AuthCleartextPassword = 3
	AuthMD5Password       = 5
	AuthGSS               = 7
	AuthGSSContinue       = 8
	AuthSSPI              = 9
	AuthSASL              = 10
	AuthSASLContinue      = 11
	AuthSASLFinal         = 12
)

// Authentication is any 'R' message. Code says which; Salt is set for
// AuthMD5Password, Mechanisms for AuthSASL, and Data (pointing into the
// decoded body) for AuthSASLContinue, AuthSASLFinal and AuthGSSContinue.
type Authentication struct {
	Code       uint32
	Salt       [4]byte
	Mechanisms []string
	Data       []byte
}

// Decode decodes an Authentication body.
func (m *Authentication) Decode(body []byte) error {
	c := newCursor(body)
	m.Code = c.u32()
	m.Mechanisms = m.Mechanisms[:0]
	m.Data = nil
	switch m.Code {
	case AuthOK, AuthKerberosV5, AuthCleartextPassword, AuthGSS, AuthSSPI:
	case AuthMD5Password:
		copy(m.Salt[:], c.bytes(4))
	case AuthSASL:
		for c.ok {
			name := c.cstr()
			if name == "" {
				break
			}
			m.Mechanisms = append(m.Mechanisms, name)
		}
	case AuthSASLContinue, AuthSASLFinal, AuthGSSContinue:
		m.Data = c.rest()
	default:
		return malformed("Authentication", fmt.Sprintf("unknown code %d", m.Code))
	}
	if !c.done() {
		return malformed("Authentication", fmt.Sprintf("bad layout for code %d", m.Code))
	}
	return nil
}

// Encode appends the message.
func (m *Authentication) Encode(dst []byte) []byte {
	dst, off := begin(dst, TypeAuthentication)
	dst = appendU32(dst, m.Code)
	switch m.Code {
	case AuthMD5Password:
		dst = append(dst, m.Salt[:]...)
	case AuthSASL:
		for _, mech := range m.Mechanisms {
			dst = appendCStr(dst, mech)
		}
		dst = append(dst, 0)
	case AuthSASLContinue, AuthSASLFinal, AuthGSSContinue:
		dst = append(dst, m.Data...)
	}
	return finish(dst, off)
}

// HasMechanism reports whether an AuthSASL message offers mech.
func (m *Authentication) HasMechanism(mech string) bool { return slices.Contains(m.Mechanisms, mech) }
