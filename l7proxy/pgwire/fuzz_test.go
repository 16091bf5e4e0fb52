// SPDX-License-Identifier: Apache-2.0

// Fuzz targets: every decoder, through DecodeFrontend, DecodeBackend,
// DecodeStartup and the Reader. Decoding must not panic, and whatever
// decodes must encode back to the same bytes.

package pgwire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// seeds are valid messages of both directions.
func seeds() [][]byte {
	var out [][]byte
	for _, m := range sampleFrontend() {
		out = append(out, m.Encode(nil))
	}
	for _, m := range sampleBackend() {
		out = append(out, m.Encode(nil))
	}
	return out
}

func FuzzDecodeFrontend(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s[0], s[5:], uint8(0))
	}
	f.Add(byte('p'), (&SASLInitialResponse{Mechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abc")}).Encode(nil)[5:], uint8(1))
	f.Fuzz(func(t *testing.T, typ byte, body []byte, phase uint8) {
		m, err := DecodeFrontend(typ, body, AuthPhase(phase%3))
		if err != nil {
			return
		}
		if got, want := m.Encode(nil), AppendRaw(nil, typ, body); !bytes.Equal(got, want) {
			t.Fatalf("%T: decode/encode changed the message\n got %x\nwant %x", m, got, want)
		}
	})
}

func FuzzDecodeBackend(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s[0], s[5:])
	}
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		m, err := DecodeBackend(typ, body)
		if err != nil {
			return
		}
		if got, want := m.Encode(nil), AppendRaw(nil, typ, body); !bytes.Equal(got, want) {
			t.Fatalf("%T: decode/encode changed the message\n got %x\nwant %x", m, got, want)
		}
	})
}

func FuzzDecodeStartup(f *testing.F) {
	for _, m := range sampleStartup() {
		f.Add(m.Encode(nil)[4:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := DecodeStartup(body)
		if err != nil {
			return
		}
		want := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
		want = append(want, body...)
		if got := m.(Message).Encode(nil); !bytes.Equal(got, want) {
			t.Fatalf("%T: decode/encode changed the message\n got %x\nwant %x", m, got, want)
		}
	})
}

// FuzzReader feeds a stream to a Reader in pieces: it must return
// messages or errors, never panic or hang, and never hold more than its
// limit.
func FuzzReader(f *testing.F) {
	var all []byte
	for _, s := range seeds() {
		all = append(all, s...)
	}
	f.Add(all, uint16(7), false)
	f.Add(sampleStartup()[0].Encode(nil), uint16(3), true)
	f.Add([]byte{'Q', 0x7f, 0xff, 0xff, 0xff}, uint16(1), false)
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint16, startup bool) {
		const limit = 4096
		r := NewReader(&chunked{b: stream, n: int(chunk%64) + 1}, limit)
		if startup {
			if _, err := r.ReadStartup(); err != nil {
				return
			}
		}
		for range len(stream) + 1 {
			typ, body, err := r.Next()
			if err != nil {
				return
			}
			if len(body)+5 > limit {
				t.Fatalf("message of %d bytes past the limit", len(body)+5)
			}
			_, _ = DecodeBackend(typ, body)
			_, _ = DecodeFrontend(typ, body, PhasePassword)
		}
		t.Fatal("more messages than bytes")
	})
}
