// SPDX-License-Identifier: Apache-2.0

// Text bodies: matches split across reads and windows, the limit, and
// Body's choice by content type.

package mask

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// chunkReader returns the data in reads of the given sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.sizes[r.i%len(r.sizes)], len(p), len(r.data))
	r.i++
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestTextAcrossBoundaries puts secrets at every kind of boundary of a
// large body: read edges, window edges, lookahead edges.
func TestTextAcrossBoundaries(t *testing.T) {
	secrets := []string{
		fakeStorageKey("b"), "alice@example.com", defaultJWT(), fakePEM("RSA PRIVATE KEY", "\n"),
		"4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32", "?sv=1&sig=" + fakeSig("b"), fakeEntraSecret("b"),
		"Server=x;Password=hunter2;",
	}
	var sb strings.Builder
	var positions []int
	for i := 0; sb.Len() < 400<<10; i++ {
		s := secrets[i%len(secrets)]
		// walk the secrets across window edges: vary the filler length
		fill := (windowStep/3 + i*4099) % (windowStep + 17)
		sb.WriteString(strings.Repeat("lorem ipsum; ", fill/13))
		sb.WriteString(" ")
		positions = append(positions, sb.Len())
		sb.WriteString(s)
		sb.WriteString(" \n")
	}
	text := sb.String()
	m := newMasker(t, nil, policy.KnownDetectors())
	// reference: the whole text in one read, processed at the end
	want, res, err := textOf(m, strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(want, s) {
			t.Errorf("secret %.30q survived", s)
		}
	}
	var total uint32
	for _, a := range res.Applied {
		total += a.Count
	}
	if int(total) != len(positions) {
		t.Errorf("masked %d, want %d (%+v)", total, len(positions), res.Applied)
	}
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(strings.NewReader(text)),
		"odd":      &chunkReader{data: []byte(text), sizes: []int{1, 7, 4096, 33000, 3, 65536}},
		"half":     iotest.HalfReader(strings.NewReader(text)),
	} {
		got, _, err := textOf(m, r)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: output differs from the single read's", name)
		}
	}
}

func textOf(m *Masker, r io.Reader) (string, Result, error) {
	var out bytes.Buffer
	res, err := m.Text(context.Background(), &out, r)
	return out.String(), res, err
}

func TestTextLimit(t *testing.T) {
	m, err := New(nil, []string{"email"}, Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := textOf(m, strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil || res.Read != 1<<20 || res.Written != 1<<20 {
		t.Fatalf("at the limit: %v %+v", err, res)
	}
	_, _, err = textOf(m, strings.NewReader(strings.Repeat("x", 1<<20+1)))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	unlimited, err := New(nil, []string{"email"}, Options{MaxBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := textOf(unlimited, strings.NewReader(strings.Repeat("x", 3<<20))); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

func TestTextRefusesPaths(t *testing.T) {
	m := newMasker(t, []string{"$.a"}, nil)
	if _, _, err := textOf(m, strings.NewReader("a")); !errors.Is(err, ErrNeedsJSON) {
		t.Fatalf("err %v", err)
	}
}

func TestBody(t *testing.T) {
	k := fakeStorageKey("body")
	tests := []struct {
		name, contentType, in, want string
		paths                       []string
		err                         error
	}{
		{"json", "application/json; charset=utf-8", `{"keys":[{"value":"` + k + `"}]}`, `{"keys":[{"value":"[MASKED]"}]}`, []string{"$.keys[*].value"}, nil},
		{"problem+json", "application/problem+json", `{"detail":"a@example.com"}`, `{"detail":"[MASKED:email]"}`, nil, nil},
		{"text", "text/plain", "AccountKey=" + k, "AccountKey=[MASKED:azure-storage-key]", nil, nil},
		{"xml", "application/xml", "<Key>" + k + "</Key>", "<Key>[MASKED:azure-storage-key]</Key>", nil, nil},
		{"no content type", "", "mail a@example.com", "mail [MASKED:email]", nil, nil},
		{"paths on text", "text/plain", "{}", "", []string{"$.a"}, ErrNeedsJSON},
		{"utf-16", "text/plain; charset=utf-16", "", "", nil, ErrUnsupported},
		{"invalid json", "application/json", "{", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMasker(t, tt.paths, []string{"azure-storage-key", "email"})
			var out bytes.Buffer
			_, err := m.Body(context.Background(), &out, strings.NewReader(tt.in), tt.contentType)
			if tt.err != nil || tt.name == "invalid json" {
				if err == nil || tt.err != nil && !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON": true,
		"text/json": true, "application/vnd.api+json": true, "text/plain": false, "application/jsonl": false, "": false, ";;": false,
	} {
		if got := IsJSON(ct); got != want {
			t.Errorf("IsJSON(%q) = %v", ct, got)
		}
	}
}

// TestTextMemory: a large body streams through in bounded memory.
func TestTextMemory(t *testing.T) {
	m, err := New(nil, policy.KnownDetectors(), Options{MaxBytes: -1, Pool: NewPool()})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("2024-01-01T00:00:00Z GET /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg 200 a@example.com\n")
	var res Result
	allocs := testing.AllocsPerRun(1, func() {
		src := io.LimitReader(&repeatReader{line: line}, 64<<20)
		var err error
		if res, err = m.Text(context.Background(), io.Discard, src); err != nil {
			t.Fatal(err)
		}
	})
	if res.Read != 64<<20 || len(res.Applied) != 1 || int(res.Applied[0].Count) != (64<<20)/len(line) {
		t.Fatalf("result %+v", res)
	}
	if allocs > 20 {
		t.Errorf("%v allocations for 64 MiB", allocs)
	}
}

type repeatReader struct {
	line []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.line[r.off:])
		n += c
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

func TestDecode(t *testing.T) {
	body := []byte(`{"value":"` + fakeStorageKey("gz") + `"}`)
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name, encoding string
		in             []byte
		err            error
	}{
		{"identity", "identity", body, nil},
		{"none", "", body, nil},
		{"gzip", "gzip", gz(body), nil},
		{"x-gzip upper case", " X-GZIP ", gz(body), nil},
		{"gzip twice", "gzip, gzip", gz(gz(body)), nil},
		{"zlib deflate", "deflate", zlibOf(body), nil},
		{"raw deflate", "deflate", rawDeflateOf(body), nil},
		{"empty gzip body", "gzip", nil, nil},
		{"br", "br", body, ErrUnsupported},
		{"gzip then br", "gzip, br", body, ErrUnsupported},
		{"zstd", "zstd", body, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := Decode(bytes.NewReader(tt.in), tt.encoding)
			if tt.err != nil {
				var ee *EncodingError
				if !errors.Is(err, tt.err) || !errors.As(err, &ee) || !strings.Contains(err.Error(), "cannot mask content-encoding") {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			m := newMasker(t, []string{"$.value"}, nil)
			var out bytes.Buffer
			_, err = m.JSON(context.Background(), &out, rc)
			if err != nil {
				t.Fatal(err)
			}
			want := `{"value":"[MASKED]"}`
			if tt.in == nil {
				want = ""
			}
			if out.String() != want {
				t.Errorf("got %q", out.String())
			}
		})
	}
}

// TestDecodeBomb: the limit counts decoded bytes.
func TestDecodeBomb(t *testing.T) {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(bytes.Repeat([]byte(" "), 64<<20))
	w.Close()
	rc, err := Decode(&buf, "gzip")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	m, err := New(nil, []string{"email"}, Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.JSON(context.Background(), io.Discard, rc); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
}

// TestAppendTextAllocs: a value without a match costs no allocation, one
// with a match none beyond dst's growth.
func TestAppendTextAllocs(t *testing.T) {
	m := newMasker(t, nil, policy.KnownDetectors())
	counts := make([]uint32, len(m.Attributions()))
	plain, card := []byte("note number 12345 for user42"), []byte("card 4111 1111 1111 1111 on file")
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		if _, n, _ := m.AppendText(dst[:0], plain, counts); n != 0 {
			t.Fatal("matched a plain value")
		}
		if out, n, _ := m.AppendText(dst[:0], card, counts); n != 1 || string(out) != "card [MASKED:credit-card] on file" {
			t.Fatalf("card: %q %d", out, n)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendText allocates %v times, want 0", allocs)
	}
	if _, _, err := newMasker(t, []string{"$.a"}, nil).AppendText(nil, plain, nil); !errors.Is(err, ErrNeedsJSON) {
		t.Errorf("paths: %v", err)
	}
}
