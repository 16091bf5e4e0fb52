// SPDX-License-Identifier: Apache-2.0

package auditlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/control/merkle"
)

func TestLeafEncoding(t *testing.T) {
	sum := [32]byte{0xaa}
	tests := []struct {
		name string
		leaf interface{ Encode() []byte }
		want string
	}{
		{"chunk", ChunkLeaf{Node: "n1", Seq: 2, SHA256: sum, Sessions: []string{"s2", "s1", "s2"}},
			"0101" + "000000026e31" + "0000000000000002" + "00000020aa" + strings.Repeat("00", 31) +
				"00000002" + "000000027331" + "000000027332"},
		{"record", RecordLeaf{ID: 7, Time: time.Unix(0, 1), Actor: "a", Action: "b", Object: "", Detail: "d"},
			"0102" + "0000000000000007" + "0000000000000001" + "0000000161" + "0000000162" + "00000000" + "0000000164"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hex.EncodeToString(tt.leaf.Encode())
			if got != tt.want {
				t.Errorf("Encode =\n%s, want\n%s", got, tt.want)
			}
		})
	}
}

// TestLeavesUnambiguous: fields that concatenate alike still encode apart.
func TestLeavesUnambiguous(t *testing.T) {
	leaves := [][]byte{
		ChunkLeaf{Node: "n", Seq: 1, Sessions: []string{"ab", "c"}}.Encode(),
		ChunkLeaf{Node: "n", Seq: 1, Sessions: []string{"a", "bc"}}.Encode(),
		ChunkLeaf{Node: "n", Seq: 1, Sessions: []string{"abc"}}.Encode(),
		ChunkLeaf{Node: "n1", Seq: 1}.Encode(),
		ChunkLeaf{Node: "n", Seq: 257}.Encode(),
		RecordLeaf{ID: 1, Actor: "ab", Action: "c"}.Encode(),
		RecordLeaf{ID: 1, Actor: "a", Action: "bc"}.Encode(),
		RecordLeaf{ID: 1, Action: "abc"}.Encode(),
	}
	for i := range leaves {
		for j := range i {
			if bytes.Equal(leaves[i], leaves[j]) {
				t.Errorf("leaves %d and %d encode alike: %x", i, j, leaves[i])
			}
		}
	}
	for i, l := range leaves {
		v, err := DecodeLeaf(l)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		var again []byte
		switch v := v.(type) {
		case ChunkLeaf:
			again = v.Encode()
		case RecordLeaf:
			again = v.Encode()
		}
		if !bytes.Equal(again, l) {
			t.Errorf("leaf %d does not round-trip: %x -> %+v -> %x", i, l, v, again)
		}
	}
}

func TestDecodeLeafRejects(t *testing.T) {
	good := RecordLeaf{ID: 1, Actor: "a"}.Encode()
	for name, b := range map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{2}, good[1:]...),
		"kind":        append([]byte{1, 9}, good[2:]...),
		"truncated":   good[:len(good)-1],
		"trailing":    append(append([]byte{}, good...), 0),
		"short sha":   append([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa}, 0, 0, 0, 0),
		"huge string": {1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
	} {
		if _, err := DecodeLeaf(b); !errors.Is(err, ErrLeaf) {
			t.Errorf("%s: DecodeLeaf = %v, want ErrLeaf", name, err)
		}
	}
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCheckpointSignVerify(t *testing.T) {
	key := newKey(t)
	origin := DefaultOrigin(key.Public().(ed25519.PublicKey))
	s, err := NewSigner(origin, key)
	if err != nil {
		t.Fatal(err)
	}
	cp := Checkpoint{Origin: origin, Size: 42, Root: merkle.LeafHash([]byte("x")), Time: time.Date(2026, 5, 4, 3, 2, 1, 123, time.UTC)}
	signed, err := s.SignCheckpoint(cp)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), signed.Body, signed.Signature) {
		t.Fatal("raw signature does not cover the body")
	}
	rebuilt, err := NoteFromSignature(signed.Body, signed.Signature, origin, signed.KeyID)
	if err != nil || !bytes.Equal(rebuilt, signed.Note) {
		t.Fatalf("NoteFromSignature =\n%s (%v), want\n%s", rebuilt, err, signed.Note)
	}
	v, err := NewVerifier(s.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID() != s.KeyID() || len(s.KeyID()) != 8 {
		t.Errorf("key ids %q, %q", v.KeyID(), s.KeyID())
	}
	got, err := v.OpenCheckpoint(signed.Note)
	if err != nil || !reflect.DeepEqual(got, cp) {
		t.Fatalf("OpenCheckpoint = %+v, %v; want %+v", got, err, cp)
	}

	other, _ := NewSigner(origin, newKey(t))
	byOther, _ := other.SignCheckpoint(cp)
	otherOrigin, _ := NewSigner("elsewhere", key)
	elsewhere, _ := otherOrigin.SignNote(Checkpoint{Origin: "elsewhere", Size: 42, Root: cp.Root, Time: cp.Time}.Body())
	tests := []struct {
		name string
		note []byte
		want error
	}{
		{"edited size", bytes.Replace(signed.Note, []byte("\n42\n"), []byte("\n43\n"), 1), ErrBadSignature},
		{"edited time", bytes.Replace(signed.Note, []byte("2026"), []byte("2027"), 1), ErrBadSignature},
		{"signed by another key", byOther.Note, ErrBadSignature},
		{"another origin", elsewhere, ErrBadSignature},
		{"no signature", signed.Body, ErrBadSignature},
		{"signature of another text", append(signed.Body[:len(signed.Body)-1:len(signed.Body)-1], []byte("x\n\n"+strings.SplitN(string(signed.Note), "\n\n", 2)[1])...), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.OpenCheckpoint(tt.note); !errors.Is(err, tt.want) {
				t.Errorf("OpenCheckpoint = %v, want %v", err, tt.want)
			}
		})
	}
	// A note the key signed that is not a checkpoint.
	other2, _ := s.SignNote([]byte("interlock evidence manifest v1\nsha256 00\n"))
	if _, err := v.OpenCheckpoint(other2); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("OpenCheckpoint(manifest note) = %v, want ErrCheckpoint", err)
	}
}

func TestParseCheckpointRejects(t *testing.T) {
	good := Checkpoint{Origin: "o", Size: 1, Time: time.Unix(1, 0)}.Body()
	for name, body := range map[string]string{
		"no newline":     strings.TrimSuffix(string(good), "\n"),
		"extra line":     string(good) + "x\n",
		"leading zero":   strings.Replace(string(good), "\n1\n", "\n01\n", 1),
		"negative size":  strings.Replace(string(good), "\n1\n", "\n-1\n", 1),
		"short root":     strings.Replace(string(good), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAA", 1),
		"no time prefix": strings.Replace(string(good), "time ", "", 1),
		"bad time":       strings.Replace(string(good), "1970", "19x0", 1),
		"space origin":   "o o" + string(good[1:]),
	} {
		if _, err := ParseCheckpoint([]byte(body)); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: ParseCheckpoint(%q) = %v, want ErrCheckpoint", name, body, err)
		}
	}
	if _, err := ParseCheckpoint(good); err != nil {
		t.Errorf("ParseCheckpoint(good) = %v", err)
	}
}

func FuzzDecodeLeaf(f *testing.F) {
	f.Add(ChunkLeaf{Node: "n", Seq: 1, Sessions: []string{"a", "b"}}.Encode())
	f.Add(RecordLeaf{ID: 1, Actor: "a", Detail: "d"}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeLeaf(b)
		if err != nil {
			return
		}
		var again []byte
		switch v := v.(type) {
		case ChunkLeaf:
			again = v.Encode()
			// Encode sorts and removes repeats; only canonical input
			// round-trips.
			if !bytes.Equal(again, b) {
				return
			}
		case RecordLeaf:
			again = v.Encode()
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, v, again)
		}
	})
}
