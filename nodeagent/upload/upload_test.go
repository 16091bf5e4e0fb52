// SPDX-License-Identifier: Apache-2.0

// End to end: recorder → spool → uploader → a SessionService that is
// stopped and restarted mid-stream.

package upload_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/upload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// teeSink appends to the spool and, once an Append is durable, notes the
// hash of every event in it.
type teeSink struct {
	sp     *spool.Spool
	mu     sync.Mutex
	hashes map[[32]byte]int
}

func (s *teeSink) Append(ctx context.Context, evs []*interlockv1.SessionEvent) error {
	if err := s.sp.Append(ctx, evs); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		s.hashes[hashEvent(ev)]++
	}
	return nil
}

func hashEvent(ev *interlockv1.SessionEvent) [32]byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return sha256.Sum256(b)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func dial(t testing.TB, addr string) interlockv1.SessionServiceClient {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 200 * time.Millisecond},
			MinConnectTimeout: time.Second,
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return interlockv1.NewSessionServiceClient(conn)
}

// produce records sessions of perSession events (open, requests and
// responses, close) from workers goroutines until total events are made.
func produce(ctx context.Context, t testing.TB, rec *record.Recorder, workers, sessions, perSession int) {
	var wg sync.WaitGroup
	next := make(chan int, sessions)
	for i := range sessions {
		next <- i
	}
	close(next)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for range next {
				s, err := rec.Open(ctx, &interlockv1.SessionOpen{Node: "node-1", Target: "arm", Protocol: interlockv1.Protocol_PROTOCOL_HTTPS})
				if err != nil {
					t.Error(err)
					return
				}
				for i := 2; i < perSession; i += 2 {
					x := s.NewExchange()
					body := make([]byte, 200+r.IntN(800))
					for j := range body {
						body[j] = "abcdefghij{}\":,0123456789"[r.IntN(25)]
					}
					if err := s.Request(ctx, &interlockv1.HTTPRequest{ExchangeId: x, Method: "GET", Host: "management.azure.com", Path: fmt.Sprintf("/subscriptions/x/resourceGroups/rg%d", x)}); err != nil {
						t.Error(err)
						return
					}
					if i+1 < perSession {
						if err := s.Response(&interlockv1.HTTPResponse{ExchangeId: x, Status: 200, Body: &interlockv1.Payload{Masked: body, Size: uint64(len(body))}}); err != nil {
							t.Error(err)
							return
						}
					}
				}
				if err := s.Close(ctx, &interlockv1.SessionClose{Reason: "client closed"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestUploadSurvivesControlPlaneRestarts(t *testing.T) {
	const sessions, perSession = 20, 500 // 10,000 events
	const total = sessions * perSession
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	st := newStore()
	srv := startServer(t, st)
	client := dial(t, srv.addr)

	sp, err := spool.Open(t.TempDir(), spool.Options{ChunkEvents: 64, ChunkDelay: 10 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	sink := &teeSink{sp: sp, hashes: map[[32]byte]int{}}
	rec := record.New(sink, record.Options{})

	up := upload.New(client, sp, upload.Options{Window: 8, MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Logger: testLogger(t)})
	upCtx, stopUpload := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { up.Run(upCtx) })
	defer func() { stopUpload(); wg.Wait() }()

	// Kill and restart the control plane twice while events flow: first
	// right after it stored a chunk and before it acked it, then at a
	// random point.
	st.mu.Lock()
	st.crashAt = total * 3 / 10
	st.mu.Unlock()
	wg.Go(func() {
		select {
		case <-st.crashed:
		case <-ctx.Done():
			t.Error("control plane never reached its crash point")
			return
		}
		srv.stop()
		time.Sleep(300 * time.Millisecond)
		srv.start()
		if err := st.waitEvents(ctx, total*65/100); err != nil {
			t.Error(err)
			return
		}
		srv.stop()
		time.Sleep(300 * time.Millisecond)
		srv.start()
	})

	start := time.Now()
	produce(ctx, t, rec, 8, sessions, perSession)
	produced := time.Since(start)
	if err := st.waitEvents(ctx, total); err != nil {
		t.Fatalf("%v (spool %+v)", err, sp.Stats())
	}
	elapsed := time.Since(start)

	events, chunks, dups, _ := st.snapshot()
	if len(events) != total {
		t.Fatalf("control plane has %d events, want %d", len(events), total)
	}
	// Exactly once: every event appended is there once, nothing else.
	seen := map[[32]byte]int{}
	for _, ev := range events {
		seen[hashEvent(ev)]++
	}
	sink.mu.Lock()
	for h, n := range sink.hashes {
		if seen[h] != n {
			t.Fatalf("an event appended %d times arrived %d times", n, seen[h])
		}
	}
	if len(seen) != len(sink.hashes) {
		t.Fatalf("%d distinct events arrived, %d were appended", len(seen), len(sink.hashes))
	}
	sink.mu.Unlock()
	// In order: each session's events arrive as seq 1..n, open first,
	// close last.
	next := map[string]uint64{}
	for _, ev := range events {
		if ev.Seq != next[ev.SessionId]+1 {
			t.Fatalf("session %s: seq %d after %d", ev.SessionId, ev.Seq, next[ev.SessionId])
		}
		if (ev.Seq == 1) != (ev.GetOpen() != nil) || (ev.Seq == perSession) != (ev.GetClose() != nil) {
			t.Fatalf("session %s: event %d is %T", ev.SessionId, ev.Seq, ev.Event)
		}
		next[ev.SessionId] = ev.Seq
	}
	if len(next) != sessions {
		t.Fatalf("%d sessions arrived, want %d", len(next), sessions)
	}
	// Acked chunks leave the spool.
	deadline := time.Now().Add(5 * time.Second)
	for sp.Stats().PendingChunks > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := sp.Stats(); s.PendingChunks != 0 || s.Acked != uint64(chunks) {
		t.Fatalf("spool after upload: %+v, control plane has %d chunks", s, chunks)
	}
	if up.Attempts() < 3 {
		t.Fatalf("uploader connected %d times, want at least 3 (two restarts)", up.Attempts())
	}
	t.Logf("%d events in %d chunks; produced in %v, all acked after %v; %d duplicate chunks re-sent; %d attempts",
		total, chunks, produced.Round(time.Millisecond), elapsed.Round(time.Millisecond), dups, up.Attempts())
}
