// SPDX-License-Identifier: Apache-2.0

// Round trips of every message, and the Reader's limits and buffering.

package pgwire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func sampleFrontend() []Message {
	return []Message{
		&Query{String: "SELECT 1; DROP TABLE t"},
		&Parse{Name: "s1", Query: "SELECT $1::int", ParamOIDs: []uint32{23}},
		&Bind{Portal: "p", Statement: "s1", ParamFormats: []int16{1}, Params: [][]byte{{0, 0, 0, 1}, nil, {}}, ResultFormats: []int16{0, 1}},
		&Describe{Kind: 'S', Name: "s1"},
		&Describe{Kind: 'P', Name: ""},
		&Execute{Portal: "p", MaxRows: 10},
		Sync{}, Flush{}, Terminate{},
		&Close{Kind: 'P', Name: "p"},
		&FunctionCall{Function: 1234, ArgFormats: []int16{0}, Args: [][]byte{[]byte("x"), nil}, ResultFormat: 1},
		&PasswordMessage{Password: []byte("secret")},
		&SASLResponse{Data: []byte("c=biws,r=abc,p=xyz")},
		&CopyData{Data: []byte("1\tfoo\n")}, CopyDone{}, &CopyFail{Message: "cancelled"},
	}
}

func sampleBackend() []Message {
	return []Message{
		&Authentication{Code: AuthOK},
		&Authentication{Code: AuthCleartextPassword},
		&Authentication{Code: AuthMD5Password, Salt: [4]byte{1, 2, 3, 4}},
		&Authentication{Code: AuthSASL, Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}},
		&Authentication{Code: AuthSASLContinue, Data: []byte("r=abc,s=c2FsdA==,i=4096")},
		&Authentication{Code: AuthSASLFinal, Data: []byte("v=abc")},
		&ParameterStatus{Name: "server_version", Value: "15.18"},
		&BackendKeyData{PID: 42, Key: []byte{1, 2, 3, 4}},
		&ReadyForQuery{Status: TxActive},
		&NotificationResponse{PID: 7, Channel: "ch", Payload: "hello"},
		&NegotiateProtocolVersion{NewestMinor: 0, Unrecognized: []string{"_pq_.x"}},
		NewError("ERROR", "42501", "denied"),
		&ErrorResponse{Notice: true, Fields: []ErrorField{{FieldSeverity, "NOTICE"}, {FieldMessage, "hi"}}},
		&RowDescription{Fields: []FieldDescription{{Name: "id", TableOID: 16384, ColumnAttr: 1, TypeOID: 23, TypeSize: 4, TypeModifier: -1}, {Name: "email", TypeOID: 25, TypeSize: -1, TypeModifier: -1, Format: 1}}},
		&DataRow{Values: [][]byte{[]byte("1"), nil, {}}},
		&CommandComplete{Tag: "SELECT 1"},
		&ParameterDescription{OIDs: []uint32{23, 25}},
		ParseComplete{}, BindComplete{}, CloseComplete{}, NoData{}, EmptyQueryResponse{}, PortalSuspended{},
		&CopyResponse{Type: TypeCopyOutResponse, Format: 0, ColumnFormats: []int16{0, 0}},
		&CopyResponse{Type: TypeCopyInResponse, Format: 1, ColumnFormats: []int16{1}},
		&FunctionCallResponse{Result: []byte("r")},
		&FunctionCallResponse{},
	}
}

func sampleStartup() []Message {
	return []Message{
		&StartupMessage{ProtocolVersion: ProtocolVersion30, Params: []Param{{"user", "agent"}, {"database", "orders"}, {"application_name", "psql"}}},
		SSLRequest{}, GSSENCRequest{},
		&CancelRequest{PID: 42, Key: []byte{1, 2, 3, 4}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range sampleFrontend() {
		enc := m.Encode(nil)
		got, err := DecodeFrontend(enc[0], enc[5:], PhasePassword)
		if _, sasl := m.(*SASLResponse); sasl {
			got, err = DecodeFrontend(enc[0], enc[5:], PhaseSASL)
		}
		if err != nil {
			t.Errorf("%T: %v", m, err)
			continue
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("frontend round trip:\n got %#v\nwant %#v", got, m)
		}
	}
	for _, m := range sampleBackend() {
		enc := m.Encode(nil)
		got, err := DecodeBackend(enc[0], enc[5:])
		if err != nil {
			t.Errorf("%T: %v", m, err)
			continue
		}
		if !bytes.Equal(got.Encode(nil), enc) {
			t.Errorf("backend round trip of %T: %x vs %x", m, got.Encode(nil), enc)
		}
	}
	for _, m := range sampleStartup() {
		enc := m.Encode(nil)
		r := NewReader(bytes.NewReader(enc), 0)
		body, err := r.ReadStartup()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeStartup(body)
		if err != nil {
			t.Errorf("%T: %v", m, err)
			continue
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("startup round trip:\n got %#v\nwant %#v", got, m)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  byte
		body []byte
		back bool
	}{
		{"query without NUL", 'Q', []byte("SELECT 1"), false},
		{"bind param longer than body", 'B', []byte("\x00\x00\x00\x00\x00\x01\x00\x00\x10\x00ab\x00\x00"), false},
		{"bind negative count", 'B', []byte("\x00\x00\x00\x00\xff\xff"), false},
		{"datarow count past body", 'D', []byte("\x7f\xff"), true},
		{"datarow negative length", 'D', []byte("\x00\x01\xff\xff\xff\xfe"), true},
		{"row description short", 'T', []byte("\x00\x01id\x00"), true},
		{"ready bad status", 'Z', []byte("X"), true},
		{"auth unknown", 'R', []byte("\x00\x00\x00\x63"), true},
		{"md5 without salt", 'R', []byte("\x00\x00\x00\x05\x01"), true},
		{"sync with body", 'S', []byte("x"), false},
		{"unknown type", '!', nil, false},
	} {
		var err error
		if tc.back {
			_, err = DecodeBackend(tc.typ, tc.body)
		} else {
			_, err = DecodeFrontend(tc.typ, tc.body, PhasePassword)
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
		}
	}
}

// chunked returns its bytes n at a time.
type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.n, len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func TestReaderLimit(t *testing.T) {
	// A declared length of 2 GiB is refused before its body is read, and
	// costs no allocation of that size.
	r := NewReader(bytes.NewReader([]byte{'D', 0x7f, 0xff, 0xff, 0xff}), 1<<20)
	_, _, err := r.Next()
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Type != 'D' || tl.Length != 0x7fffffff {
		t.Fatalf("err = %v, want a TooLargeError for 'D'", err)
	}
	if cap(r.buf) > minBuffer {
		t.Errorf("buffer grew to %d for a declared length", cap(r.buf))
	}
	// A startup message longer than MaxStartup.
	r = NewReader(bytes.NewReader([]byte{0, 0, 0x30, 0, 0, 3, 0, 0}), 0)
	if _, err := r.ReadStartup(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("startup err = %v", err)
	}
}

func TestReaderGrowsWithBytes(t *testing.T) {
	// A 1 MiB message declared but only 10 KiB sent: the buffer holds
	// what arrived, not the declared size.
	msg := AppendRaw(nil, 'd', make([]byte, 1<<20))
	r := NewReader(&chunked{b: msg[:10<<10], n: 1024}, 0)
	if _, _, err := r.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
	if cap(r.buf) > 32<<10 {
		t.Errorf("buffer of %d bytes for 10 KiB received", cap(r.buf))
	}
	// The whole message, in pieces, then a second one.
	stream := append(append([]byte{}, msg...), Sync{}.Encode(nil)...)
	r = NewReader(&chunked{b: stream, n: 4000}, 0)
	typ, body, err := r.Next()
	if err != nil || typ != 'd' || len(body) != 1<<20 {
		t.Fatalf("got %q %d %v", typ, len(body), err)
	}
	typ, body, err = r.Next()
	if err != nil || typ != 'S' || len(body) != 0 {
		t.Fatalf("second message %q %d %v", typ, len(body), err)
	}
	if cap(r.buf) > keepBuffer && r.Buffered() == 0 {
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("end: %v", err)
		}
		if r.buf != nil {
			t.Errorf("a %d byte buffer was kept after a large message", cap(r.buf))
		}
	}
}

func TestDataRowDecodeAllocs(t *testing.T) {
	body := (&DataRow{Values: [][]byte{[]byte("1"), []byte("alice@example.com"), nil}}).Encode(nil)[5:]
	var row DataRow
	_ = row.Decode(body)
	var out []byte
	allocs := testing.AllocsPerRun(100, func() {
		_ = row.Decode(body)
		out = row.Encode(out[:0])
	})
	if allocs != 0 {
		t.Errorf("DataRow decode+encode allocates %v times, want 0", allocs)
	}
}

func TestReaderReady(t *testing.T) {
	// Two messages arriving in one read, then one in pieces: Ready says
	// whether Next can answer without reading.
	stream := append(Sync{}.Encode(nil), AppendRaw(nil, 'd', []byte("hello"))...)
	stream = append(stream, AppendRaw(nil, 'd', make([]byte, 100))...)
	r := NewReader(&chunked{b: stream, n: 16}, 0)
	if r.Ready() {
		t.Fatal("ready before any read")
	}
	for i, want := range []bool{true, false, false} {
		if _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if got := r.Ready(); got != want {
			t.Errorf("after message %d: Ready() = %v, want %v (%d buffered)", i, got, want, r.Buffered())
		}
	}
}
