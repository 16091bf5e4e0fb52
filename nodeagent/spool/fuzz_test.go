// SPDX-License-Identifier: Apache-2.0

// Fuzzing recovery: any bytes in a segment are either recovered or
// reported as corrupt, never a panic.

package spool_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/interlockhq/interlock/nodeagent/spool"
)

const segMagic = "ILSPOOL\x01"

func FuzzRecover(f *testing.F) {
	dir := f.TempDir()
	sp, err := spool.Open(dir, spool.Options{ChunkEvents: 2})
	if err != nil {
		f.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for seq := uint64(1); seq <= 5; seq++ {
		appendOne(f, sp, armEvent(r, "s", seq, 100))
	}
	sp.Close()
	seg, err := os.ReadFile(filepath.Join(dir, "00000000000000000001.seg"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seg[len(segMagic):])
	f.Add(seg[len(segMagic) : len(seg)/2])
	f.Add([]byte{})
	f.Add(make([]byte, 64))

	quiet := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), append([]byte(segMagic), tail...), 0o600); err != nil {
			t.Fatal(err)
		}
		sp, err := spool.Open(dir, spool.Options{ChunkEvents: 2, Logger: quiet})
		if err != nil {
			var ce *spool.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open = %v, want success or CorruptError", err)
			}
			return
		}
		defer sp.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for after := sp.Stats().Acked; after < sp.Stats().LastSeq; {
			c, err := sp.Next(ctx, after)
			if err != nil {
				t.Fatalf("Next(%d): %v", after, err)
			}
			if _, err := spool.DecodeChunk(c); err != nil {
				t.Logf("chunk %d does not decode: %v", c.Seq, err)
			}
			after = c.Seq
		}
	})
}
