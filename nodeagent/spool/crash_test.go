// SPDX-License-Identifier: Apache-2.0

// Crash safety: a child process appends while the test kills it with
// SIGKILL at random points, many times over the same directory.

package spool_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

const (
	crashDirEnv  = "INTERLOCK_SPOOL_CRASH_DIR"
	crashIterEnv = "INTERLOCK_SPOOL_CRASH_ITER"
	crashSyncEnv = "INTERLOCK_SPOOL_CRASH_SYNC"
	crashWriters = 4
)

// crashOpts are small, so that chunks, segment rotation and recovery
// sealing all happen within a run of a few tens of milliseconds.
func crashOpts(syncEvery time.Duration) spool.Options {
	return spool.Options{ChunkEvents: 8, ChunkDelay: 5 * time.Millisecond, SegmentBytes: 16 << 10, MaxBytes: 1 << 30, SyncInterval: syncEvery}
}

// crashChild appends forever from crashWriters goroutines and prints
// "writer seq" for every Append that returned nil.
func crashChild(dir, iter string, syncEvery time.Duration) {
	sp, err := spool.Open(dir, crashOpts(syncEvery))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	out := make(chan string, 1024)
	for w := range crashWriters {
		go func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			session := fmt.Sprintf("i%s-w%d", iter, w)
			for seq := uint64(1); ; seq++ {
				ev := armEvent(r, session, seq, 64+r.IntN(600))
				if err := sp.Append(context.Background(), []*interlockv1.SessionEvent{ev}); err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(4)
				}
				out <- fmt.Sprintf("%d %d\n", w, seq)
			}
		}()
	}
	for line := range out {
		io.WriteString(os.Stdout, line)
	}
}

// TestCrashKill9: every Append that returned survives kill -9, with every
// Append fsync'd.
func TestCrashKill9(t *testing.T) { crashKill9(t, "TestCrashKill9", 0) }

// TestCrashKill9WriteOnly: the same when Append returns once written and
// fsyncs come in the background (SyncInterval): a killed process's writes
// are the kernel's.
func TestCrashKill9WriteOnly(t *testing.T) {
	crashKill9(t, "TestCrashKill9WriteOnly", 5*time.Millisecond)
}

func crashKill9(t *testing.T, name string, syncEvery time.Duration) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		d, _ := time.ParseDuration(os.Getenv(crashSyncEnv))
		crashChild(dir, os.Getenv(crashIterEnv), d)
		return
	}
	if testing.Short() {
		t.Log("short: fewer kills")
	}
	iterations := 40
	if testing.Short() {
		iterations = 8
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	shas := map[uint64]string{}      // every chunk ever seen: seq → sha256
	events := map[uint64][]string{}  // chunk seq → "session/seq" of its events
	confirmed := map[string]uint64{} // session → highest confirmed seq
	totalConfirmed := 0

	for iter := range iterations {
		cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashIterEnv+"="+strconv.Itoa(iter), crashSyncEnv+"="+syncEvery.String())
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		var wg sync.WaitGroup
		wg.Go(func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
		})
		time.Sleep(time.Duration(r.IntN(150)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		wg.Wait()
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); !ok || !ws.Signaled() {
			t.Fatalf("iteration %d: child ended by itself: %v", iter, err)
		}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) != 2 {
				continue // a line cut by the kill
			}
			seq, _ := strconv.ParseUint(f[1], 10, 64)
			s := fmt.Sprintf("i%d-w%s", iter, f[0])
			confirmed[s] = max(confirmed[s], seq)
			totalConfirmed++
		}

		// Recover, wait for the recovered events to be sealed, read.
		sp, err := spool.Open(dir, crashOpts(syncEvery))
		if err != nil {
			t.Fatalf("iteration %d: recover: %v", iter, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for sp.Stats().UnsealedEvents > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		// Recovered events are offered once fsync'd: make that now.
		if err := sp.Sync(t.Context()); err != nil {
			t.Fatalf("iteration %d: sync: %v", iter, err)
		}
		acked := sp.Stats().Acked
		chunks, _ := readAll(t, sp, acked)
		for _, c := range chunks {
			if old, ok := shas[c.Seq]; ok && old != string(c.Sha256) {
				t.Fatalf("iteration %d: chunk %d changed its bytes after a crash", iter, c.Seq)
			}
			shas[c.Seq] = string(c.Sha256)
			b, err := spool.DecodeChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, ev := range b.Events {
				ids = append(ids, fmt.Sprintf("%s/%d", ev.SessionId, ev.Seq))
			}
			events[c.Seq] = ids
		}

		// Every confirmed event is there exactly once, in order, in
		// chunks numbered 1..last without gaps.
		last := sp.Stats().LastSeq
		next := map[string]uint64{}
		for seq := uint64(1); seq <= last; seq++ {
			ids, ok := events[seq]
			if !ok {
				t.Fatalf("iteration %d: chunk %d missing", iter, seq)
			}
			for _, id := range ids {
				s, n, _ := strings.Cut(id, "/")
				evSeq, _ := strconv.ParseUint(n, 10, 64)
				if evSeq != next[s]+1 {
					t.Fatalf("iteration %d: session %s: event %d follows %d", iter, s, evSeq, next[s])
				}
				next[s] = evSeq
			}
		}
		for s, n := range confirmed {
			if next[s] < n {
				t.Fatalf("iteration %d: session %s: %d events confirmed, %d recovered", iter, s, n, next[s])
			}
		}

		// Ack a random part, as an uploader would, so that segments are
		// deleted and seqs must continue.
		if last > acked {
			if err := sp.Ack(acked + uint64(r.IntN(int(last-acked)+1))); err != nil {
				t.Fatal(err)
			}
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d kills, %d confirmed events, %d chunks", iterations, totalConfirmed, len(shas))
	if totalConfirmed == 0 {
		t.Fatal("no Append was confirmed in any run")
	}
}
