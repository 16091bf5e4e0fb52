// SPDX-License-Identifier: Apache-2.0

// Tests of appending, sealing, reopening, acking and group commit.

package spool_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func TestAppendSealReopen(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	opts := spool.Options{ChunkEvents: 10, ChunkDelay: time.Hour}
	sp, err := spool.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var want [][32]byte
	open := openEvent("s1")
	appendOne(t, sp, open)
	want = append(want, evHash(t, open))
	for seq := uint64(2); seq <= 25; seq++ {
		ev := armEvent(r, "s1", seq, 512)
		appendOne(t, sp, ev)
		want = append(want, evHash(t, ev))
	}
	st := sp.Stats()
	if st.LastSeq != 2 || st.UnsealedEvents != 5 || st.PendingEvents != 25 || st.PendingChunks != 2 {
		t.Fatalf("stats = %+v, want 2 chunks sealed, 5 unsealed, 25 pending", st)
	}
	before, _ := readAll(t, sp, 0)
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); !errors.Is(err, spool.ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if err := sp.Append(context.Background(), []*interlockv1.SessionEvent{openEvent("x")}); !errors.Is(err, spool.ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}

	sp = openSpool(t, dir, opts)
	chunks, evs := readAll(t, sp, 0)
	if len(chunks) != 3 {
		t.Fatalf("after reopen: %d chunks, want 3 (the close sealed the rest)", len(chunks))
	}
	for i, c := range before {
		if chunks[i].Seq != c.Seq || string(chunks[i].Sha256) != string(c.Sha256) {
			t.Fatalf("chunk %d changed across reopen: seq %d→%d", i, c.Seq, chunks[i].Seq)
		}
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		if evHash(t, ev) != want[i] {
			t.Fatalf("event %d differs", i)
		}
	}
}

func TestChunkDelaySeals(t *testing.T) {
	sp := openSpool(t, t.TempDir(), spool.Options{ChunkEvents: 1000, ChunkDelay: 20 * time.Millisecond})
	appendOne(t, sp, openEvent("s"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	c, err := sp.Next(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != 1 || c.Events != 1 {
		t.Fatalf("chunk %d with %d events, want 1 with 1", c.Seq, c.Events)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("sealed after %v", d)
	}
}

func TestNextWaitsAndEnds(t *testing.T) {
	sp := openSpool(t, t.TempDir(), spool.Options{ChunkEvents: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := sp.Next(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on empty spool = %v, want deadline", err)
	}
	got := make(chan uint64, 1)
	go func() {
		for c, err := range sp.Pending(context.Background(), 0) {
			if err != nil {
				close(got)
				return
			}
			got <- c.Seq
		}
	}()
	appendOne(t, sp, openEvent("s"))
	if seq := <-got; seq != 1 {
		t.Fatalf("Pending yielded %d, want 1", seq)
	}
	sp.Close()
	if _, ok := <-got; ok {
		t.Fatal("Pending went on after Close")
	}
}

func TestAckDeletesSegmentsAndSeqContinues(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	// Chunks of exactly 4 events: no timer seals a partial one, however
	// slow the fsyncs are on a loaded machine.
	opts := spool.Options{ChunkEvents: 4, ChunkDelay: time.Hour, SegmentBytes: 8 << 10, MaxBytes: 64 << 20}
	sp, err := spool.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 200; seq++ {
		appendOne(t, sp, armEvent(r, "s", seq, 400))
	}
	segs := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		return len(m)
	}
	st := sp.Stats()
	if st.LastSeq != 50 || segs() < 5 {
		t.Fatalf("last seq %d, %d segments; want 50 chunks over several segments", st.LastSeq, segs())
	}
	if err := sp.Ack(20); err != nil {
		t.Fatal(err)
	}
	if st2 := sp.Stats(); st2.PendingChunks != 30 || st2.DiskBytes >= st.DiskBytes*3/4 || segs() > 16 {
		t.Fatalf("after ack 20: %+v, %d segments", st2, segs())
	}
	c, err := sp.Next(context.Background(), 0)
	if err != nil || c.Seq != 21 {
		t.Fatalf("Next(0) after ack 20 = %v, %v; want chunk 21", c.GetSeq(), err)
	}
	if err := sp.Ack(1000); err != nil { // clamped to 50
		t.Fatal(err)
	}
	// The idle active segment is rotated away once fully acked.
	deadline := time.Now().Add(5 * time.Second)
	for segs() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := segs(); n != 1 {
		t.Fatalf("%d segments after acking everything, want 1", n)
	}
	if st := sp.Stats(); st.Acked != 50 || st.PendingChunks != 0 || st.PendingEvents != 0 {
		t.Fatalf("stats after ack all: %+v", st)
	}
	sp.Close()

	sp = openSpool(t, dir, opts)
	for seq := uint64(201); seq <= 204; seq++ {
		appendOne(t, sp, armEvent(r, "s", seq, 400))
	}
	c, err = sp.Next(context.Background(), 0)
	if err != nil || c.Seq != 51 {
		t.Fatalf("first chunk after reopen = %v, %v; want 51", c.GetSeq(), err)
	}
}

func TestGroupCommitBatchesWriters(t *testing.T) {
	dir := t.TempDir()
	sp := openSpool(t, dir, spool.Options{})
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for seq := uint64(1); seq <= each; seq++ {
				if err := sp.Append(context.Background(), []*interlockv1.SessionEvent{armEvent(r, fmt.Sprint("s", w), seq, 256)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := sp.Stats()
	if st.Appends != writers*each {
		t.Fatalf("appends = %d, want %d", st.Appends, writers*each)
	}
	if st.Syncs*2 > st.Appends {
		t.Fatalf("%d fsyncs for %d appends: group commit did not batch", st.Syncs, st.Appends)
	}
	t.Logf("%d appends in %d fsyncs", st.Appends, st.Syncs)
	// Per-writer order is kept.
	sp.Close()
	sp = openSpool(t, dir, spool.Options{})
	_, evs := readAll(t, sp, 0)
	next := map[string]uint64{}
	for _, ev := range evs {
		if ev.Seq != next[ev.SessionId]+1 {
			t.Fatalf("session %s: seq %d after %d", ev.SessionId, ev.Seq, next[ev.SessionId])
		}
		next[ev.SessionId] = ev.Seq
	}
	if len(evs) != writers*each {
		t.Fatalf("%d events, want %d", len(evs), writers*each)
	}
}

func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	openSpool(t, dir, spool.Options{})
	if sp, err := spool.Open(dir, spool.Options{}); err == nil {
		sp.Close()
		t.Fatal("a second Open of the same directory succeeded")
	}
}

func TestCorruptMiddleSegmentFailsOpen(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(5, 6))
	// Chunks of exactly 4 events: no timer seals a partial one, however
	// slow the fsyncs are on a loaded machine.
	opts := spool.Options{ChunkEvents: 4, ChunkDelay: time.Hour, SegmentBytes: 8 << 10, MaxBytes: 64 << 20}
	sp, err := spool.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 100; seq++ {
		appendOne(t, sp, armEvent(r, "s", seq, 400))
	}
	sp.Close()
	m, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(m) < 3 {
		t.Fatalf("%d segments, want several", len(m))
	}
	f, err := os.OpenFile(m[1], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("garbage!"), 200); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = spool.Open(dir, opts)
	var ce *spool.CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Open of a spool with a damaged middle segment = %v, want CorruptError", err)
	}
	t.Log(err)
}

func TestOneAppendSpanningChunks(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	opts := spool.Options{ChunkEvents: 8}
	sp, err := spool.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*interlockv1.SessionEvent
	var want [][32]byte
	for seq := uint64(1); seq <= 21; seq++ {
		ev := armEvent(r, "s", seq, 200)
		evs = append(evs, ev)
		want = append(want, evHash(t, ev))
	}
	if err := sp.Append(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if st := sp.Stats(); st.LastSeq != 2 || st.UnsealedEvents != 5 {
		t.Fatalf("stats %+v, want 2 chunks and 5 unsealed", st)
	}
	sp.Close()
	sp = openSpool(t, dir, opts)
	chunks, got := readAll(t, sp, 0)
	if len(chunks) != 3 || len(got) != len(want) {
		t.Fatalf("%d chunks, %d events; want 3, %d", len(chunks), len(got), len(want))
	}
	for i, ev := range got {
		if evHash(t, ev) != want[i] {
			t.Fatalf("event %d differs", i)
		}
	}
}
