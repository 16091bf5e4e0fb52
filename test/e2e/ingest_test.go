// SPDX-License-Identifier: Apache-2.0

package e2e_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/upload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
)

// 10,000 events from a node while the control plane is stopped and
// restarted twice mid-stream: each arrives exactly once, in order.
func TestIngestThroughRestarts(t *testing.T) {
	const sessions, perSession = 20, 500
	const total = sessions * perSession
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := plane.Start(t, nil)
	dir := t.TempDir()
	id := enroll(t, p, dir, "node-ingest")
	cfg := clientConfig(t, p)
	cfg.Identity = id
	client, err := controlclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sp, err := spool.Open(dir+"/spool", spool.Options{ChunkEvents: 64, ChunkDelay: 20 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var mu sync.Mutex
	durable := map[[32]byte]bool{}
	rec := record.New(durableSink{next: sp, onDurable: func(evs []*interlockv1.SessionEvent) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			durable[hashEvent(ev)] = true
		}
	}}, record.Options{})
	up := client.Uploader(sp, upload.Options{Window: 8, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Logger: testLogger(t)})
	uctx, stopUpload := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { up.Run(uctx) })
	defer func() { stopUpload(); wg.Wait() }()

	// Restart the control plane twice while chunks flow, by acked chunks.
	restarted := make(chan struct{})
	wg.Go(func() {
		defer close(restarted)
		for _, at := range []uint64{30, 90} {
			for up.Acked() < at {
				if ctx.Err() != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
			p.Stop()
			time.Sleep(200 * time.Millisecond)
			p.Resume()
		}
	})

	start := time.Now()
	if err := produce(ctx, rec, id.NodeID, 1, 8, sessions, perSession); err != nil {
		t.Fatal(err)
	}
	produced := time.Since(start)
	<-restarted
	for {
		st := sp.Stats()
		if st.UnsealedEvents == 0 && st.PendingChunks == 0 && up.Acked() == st.LastSeq {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("upload did not finish: %+v, acked %d", st, up.Acked())
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)

	got, err := readNode(ctx, p.Person(p.AdminToken), id.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(durable) != total {
		t.Fatalf("%d distinct events recorded, want %d", len(durable), total)
	}
	if n := checkArrived(t, got, durable, false); n != total || len(got) != sessions {
		t.Fatalf("%d events in %d sessions arrived, want %d in %d", n, len(got), total, sessions)
	}
	st := sp.Stats()
	if up.Attempts() < 3 {
		t.Errorf("uploader opened %d streams; want at least 3 (two restarts)", up.Attempts())
	}
	t.Logf("ingest: %d events, %d chunks, %d streams; recorded in %v, all acked after %v: %.0f events/s end to end; %.1f compressed bytes/event (%.1f uncompressed)",
		total, st.Chunks, up.Attempts(), produced.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), float64(st.CompressedBytes)/float64(st.Events), float64(st.UncompressedBytes)/float64(st.Events))
}
