// SPDX-License-Identifier: Apache-2.0

// The full-spool policy: new sessions refused, open sessions go on up to
// the reserve, nothing accepted is dropped.

package spool_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func TestFullRefusesNewSessionsKeepsOpenOnes(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(8, 8))
	opts := spool.Options{ChunkEvents: 8, MaxBytes: 64 << 10, ReserveBytes: 16 << 10}
	sp := openSpool(t, dir, opts)
	ctx := context.Background()
	appendOne(t, sp, openEvent("s1"))
	accepted := 1

	// Fill up to MaxBytes with the open session's events.
	seq := uint64(2)
	for ; sp.Stats().DiskBytes < opts.MaxBytes; seq++ {
		appendOne(t, sp, armEvent(r, "s1", seq, 700))
		accepted++
	}
	err := sp.Append(ctx, []*interlockv1.SessionEvent{openEvent("s2")})
	if !errors.Is(err, spool.ErrFull) {
		t.Fatalf("opening a session on a full spool = %v, want ErrFull", err)
	}
	// The open session goes on, into the reserve, until the hard limit.
	inReserve := 0
	for ; ; seq++ {
		err := sp.Append(ctx, []*interlockv1.SessionEvent{armEvent(r, "s1", seq, 700)})
		if errors.Is(err, spool.ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		accepted++
		inReserve++
	}
	if inReserve < 5 {
		t.Fatalf("only %d events went into the reserve", inReserve)
	}
	if st := sp.Stats(); st.DiskBytes > opts.MaxBytes+opts.ReserveBytes || st.Rejected != 2 {
		t.Fatalf("stats when full: %+v", st)
	}

	// Nothing accepted was dropped.
	sp.Close()
	sp = openSpool(t, dir, opts)
	_, evs := readAll(t, sp, 0)
	if len(evs) != accepted {
		t.Fatalf("%d events in the spool, %d accepted", len(evs), accepted)
	}
	for i, ev := range evs {
		if ev.SessionId != "s1" || ev.Seq != uint64(i+1) {
			t.Fatalf("event %d is %s/%d", i, ev.SessionId, ev.Seq)
		}
	}

	// Once the control plane acks, new sessions are accepted again.
	if err := sp.Ack(sp.Stats().LastSeq); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := sp.Append(ctx, []*interlockv1.SessionEvent{openEvent("s3")})
		if err == nil {
			break
		}
		if !errors.Is(err, spool.ErrFull) || time.Now().After(deadline) {
			t.Fatalf("open after ack: %v (stats %+v)", err, sp.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("accepted %d events, %d of them in the reserve", accepted, inReserve)
}
