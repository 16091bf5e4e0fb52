// SPDX-License-Identifier: Apache-2.0

package upload_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/upload"
)

// A node whose spool directory was lost starts numbering at 1 again; the
// control plane already holds chunks with those seqs. The uploader must
// make the new spool continue after them, and every new event arrive.
func TestLostSpoolContinuesAfterControlPlane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newStore()
	srv := startServer(t, st)
	client := dial(t, srv.addr)
	opts := spool.Options{ChunkEvents: 16, ChunkDelay: 10 * time.Millisecond, Logger: testLogger(t)}
	uopts := upload.Options{Window: 4, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: testLogger(t)}

	// run records sessions into a spool in dir while uploading it, and
	// waits until the control plane holds want events.
	run := func(dir string, sessions, want int, beforeUpload bool) *spool.Spool {
		sp, err := spool.Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sp.Close() })
		rec := record.New(&teeSink{sp: sp, hashes: map[[32]byte]int{}}, record.Options{})
		if beforeUpload { // chunks sealed before the first Resume
			produce(ctx, t, rec, 2, sessions, 40)
			deadline := time.Now().Add(5 * time.Second)
			for sp.Stats().UnsealedEvents > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		}
		up := upload.New(client, sp, uopts)
		uctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { up.Run(uctx) })
		defer func() { stop(); wg.Wait() }()
		if !beforeUpload {
			produce(ctx, t, rec, 2, sessions, 40)
		}
		if err := st.waitEvents(ctx, want); err != nil {
			t.Fatalf("%v (spool %+v)", err, sp.Stats())
		}
		return sp
	}

	first := run(t.TempDir(), 4, 160, false)
	_, held, _, _ := st.snapshot()
	if held < 2 {
		t.Fatalf("control plane holds %d chunks; want several", held)
	}
	first.Close()

	// The spool directory is lost: a new, empty one. Its chunks were
	// sealed before it could ask the control plane where to continue.
	second := run(t.TempDir(), 4, 320, true)
	events, chunks, _, _ := st.snapshot()
	if len(events) != 320 {
		t.Fatalf("control plane holds %d events, want 320", len(events))
	}
	if s := second.Stats(); s.LastSeq != uint64(chunks) || s.LastSeq <= uint64(held) {
		t.Fatalf("new spool's last seq %d; control plane holds %d chunks, %d before", s.LastSeq, chunks, held)
	}
}
