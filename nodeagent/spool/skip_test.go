// SPDX-License-Identifier: Apache-2.0

package spool_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/interlockhq/interlock/nodeagent/spool"
)

// A lost spool directory: the control plane holds chunks the new spool
// never sealed, so the new spool's chunks continue after them, across
// reopen, whether they were sealed before SkipTo or after.
func TestSkipToRenumbers(t *testing.T) {
	tests := []struct {
		name        string
		settled     bool   // SkipTo(0) first, as with a control plane that held nothing
		before      int    // events sealed before SkipTo (4 per chunk)
		acked       uint64 // acked before SkipTo, in the spool's old numbering
		skip        uint64
		wantFirst   uint64 // seq of the first chunk Next offers after skip
		wantLastSeq uint64 // after before+8 events
	}{
		{"new empty spool", false, 0, 0, 100, 101, 102},
		{"new spool's chunks follow", false, 8, 0, 50, 51, 54},
		{"new spool's chunks follow even below its last", false, 8, 0, 1, 2, 5},
		{"acked chunks stay acked", false, 12, 1, 40, 41, 44},
		{"settled, control plane behind: no-op", true, 8, 0, 1, 2, 4},
		{"settled, control plane ahead: renumbered", true, 8, 0, 50, 51, 54},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := spool.Options{ChunkEvents: 4, ChunkDelay: time.Hour}
			r := rand.New(rand.NewPCG(1, 2))
			sp, err := spool.Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.settled {
				if err := sp.SkipTo(0); err != nil {
					t.Fatal(err)
				}
			}
			seq := uint64(0)
			add := func(sp *spool.Spool, n int) {
				for range n {
					seq++
					appendOne(t, sp, armEvent(r, "s", seq, 200))
				}
			}
			add(sp, tt.before)
			if err := sp.Ack(tt.acked); err != nil {
				t.Fatal(err)
			}
			if err := sp.SkipTo(tt.skip); err != nil {
				t.Fatal(err)
			}
			if err := sp.SkipTo(tt.skip); err != nil { // idempotent
				t.Fatal(err)
			}
			add(sp, 4)
			c, err := sp.Next(context.Background(), tt.skip)
			if err != nil || c.GetSeq() != tt.wantFirst {
				t.Fatalf("Next(%d) = %d, %v; want chunk %d", tt.skip, c.GetSeq(), err, tt.wantFirst)
			}
			if err := sp.Close(); err != nil {
				t.Fatal(err)
			}

			sp = openSpool(t, dir, opts)
			add(sp, 4)
			st := sp.Stats()
			if st.LastSeq != tt.wantLastSeq {
				t.Fatalf("after reopen: last seq %d, want %d (%+v)", st.LastSeq, tt.wantLastSeq, st)
			}
			// Chunks are gap-free in the new numbering, and acks in it
			// delete them.
			chunks, evs := readAll(t, sp, max(tt.skip, tt.acked))
			if len(chunks) == 0 || chunks[0].GetSeq() != tt.wantFirst || chunks[len(chunks)-1].GetSeq() != tt.wantLastSeq {
				t.Fatalf("pending chunks %d..%d, want %d..%d", chunks[0].GetSeq(), chunks[len(chunks)-1].GetSeq(), tt.wantFirst, tt.wantLastSeq)
			}
			if want := int(tt.wantLastSeq-tt.wantFirst+1) * 4; len(evs) != want {
				t.Fatalf("%d events pending, want %d", len(evs), want)
			}
			if err := sp.Ack(tt.wantLastSeq); err != nil {
				t.Fatal(err)
			}
			if st := sp.Stats(); st.Acked != tt.wantLastSeq || st.PendingChunks != 0 {
				t.Fatalf("after acking all: %+v", st)
			}
		})
	}
}
