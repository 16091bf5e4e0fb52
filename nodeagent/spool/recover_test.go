// SPDX-License-Identifier: Apache-2.0

// Recovery of a torn tail: garbage and half records after a crash.

package spool_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/interlockhq/interlock/nodeagent/spool"
)

func TestTornTailIsTruncated(t *testing.T) {
	header := func(n uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, n)
		return binary.LittleEndian.AppendUint32(b, 0xdeadbeef)
	}
	tests := []struct {
		name string
		// damage changes the last segment, given its bytes; it returns
		// the new bytes.
		damage func(seg []byte) []byte
		// sameSize: recovery must cut the file back to its old size.
		sameSize bool
	}{
		{"random garbage", func(b []byte) []byte {
			g := rand.NewChaCha8([32]byte{7})
			junk := make([]byte, 300)
			g.Read(junk)
			return append(b, junk...)
		}, true},
		{"zero-filled tail", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, true},
		{"header only", func(b []byte) []byte { return append(b, header(500)[:6]...) }, true},
		{"length past the end", func(b []byte) []byte { return append(append(b, header(1000)...), "EEEEEEEEEE"...) }, true},
		{"huge length", func(b []byte) []byte { return append(append(b, header(1<<31)...), "E"...) }, true},
		{"half of a valid record", func(b []byte) []byte {
			first := b[8:] // the first record after the magic
			n := binary.LittleEndian.Uint32(first)
			return append(b, first[:(8+n)/2]...)
		}, true},
		{"valid record with a bad checksum", func(b []byte) []byte {
			first := b[8:]
			n := binary.LittleEndian.Uint32(first)
			rec := bytes.Clone(first[:8+n])
			rec[8+n-1] ^= 0xff
			return append(b, rec...)
		}, true},
		{"last chunk record cut in half", func(b []byte) []byte {
			// Close sealed a final chunk; cut it: its events survive
			// and are sealed again.
			return b[:len(b)-20]
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := rand.New(rand.NewPCG(1, 1))
			opts := spool.Options{ChunkEvents: 8}
			sp, err := spool.Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			var want [][32]byte
			for seq := uint64(1); seq <= 20; seq++ {
				ev := armEvent(r, "s", seq, 300)
				appendOne(t, sp, ev)
				want = append(want, evHash(t, ev))
			}
			sp.Close()
			path := filepath.Join(dir, "00000000000000000001.seg")
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}

			sp, err = spool.Open(dir, opts)
			if err != nil {
				t.Fatalf("recover: %v", err)
			}
			if tt.sameSize {
				if fi, _ := os.Stat(path); fi.Size() != int64(len(good)) {
					t.Fatalf("segment is %d bytes after recovery, want %d", fi.Size(), len(good))
				}
			}
			for seq := uint64(21); seq <= 24; seq++ {
				ev := armEvent(r, "s", seq, 300)
				appendOne(t, sp, ev)
				want = append(want, evHash(t, ev))
			}
			sp.Close()
			sp = openSpool(t, dir, opts)
			chunks, evs := readAll(t, sp, 0)
			if len(evs) != len(want) {
				t.Fatalf("%d events after recovery, want %d", len(evs), len(want))
			}
			for i, ev := range evs {
				if evHash(t, ev) != want[i] {
					t.Fatalf("event %d differs", i)
				}
			}
			for i, c := range chunks {
				if c.Seq != uint64(i+1) {
					t.Fatalf("chunk %d has seq %d", i, c.Seq)
				}
			}
		})
	}
}

func TestTornSegmentHeader(t *testing.T) {
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{ChunkEvents: 1})
	if err != nil {
		t.Fatal(err)
	}
	appendOne(t, sp, openEvent("s"))
	sp.Close()
	// A crash right after creating the next segment left it half-written.
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000002.seg"), []byte("ILSP"), 0o600); err != nil {
		t.Fatal(err)
	}
	sp = openSpool(t, dir, spool.Options{ChunkEvents: 1})
	appendOne(t, sp, openEvent("t"))
	sp.Close()
	sp = openSpool(t, dir, spool.Options{ChunkEvents: 1})
	if chunks, _ := readAll(t, sp, 0); len(chunks) != 2 {
		t.Fatalf("%d chunks, want 2", len(chunks))
	}
}
