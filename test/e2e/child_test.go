// SPDX-License-Identifier: Apache-2.0

// The node child process: record sessions into the spool and upload them,
// printing the hash of every event once it is durable.

package e2e_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/upload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Environment of the child: childEnv set to the state dir; the control
// plane's address; how many sessions to record (0: only upload).
const (
	childEnv         = "INTERLOCK_E2E_NODE_STATE"
	childServerEnv   = "INTERLOCK_E2E_NODE_SERVER"
	childSessionsEnv = "INTERLOCK_E2E_NODE_SESSIONS"
	childPerSession  = 200
)

// Lines the child prints besides event hashes.
const (
	childRecorded = "RECORDED"
	childUploaded = "UPLOADED"
)

func runChild() int {
	if err := child(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

func child() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	dir := os.Getenv(childEnv)
	sessions, err := strconv.Atoi(os.Getenv(childSessionsEnv))
	if err != nil {
		return err
	}
	id, err := controlclient.LoadIdentity(dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := controlclient.Dial(controlclient.Config{Server: os.Getenv(childServerEnv), ServerName: "127.0.0.1", Identity: id, Logger: log, DialOptions: fastDial})
	if err != nil {
		return err
	}
	defer client.Close()
	sp, err := spool.Open(dir+"/spool", spool.Options{ChunkEvents: 32, ChunkDelay: 10 * time.Millisecond, Logger: log})
	if err != nil {
		return err
	}
	defer sp.Close()
	up := client.Uploader(sp, upload.Options{Window: 4, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Logger: log})
	uctx, stopUpload := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { up.Run(uctx) })
	defer func() { stopUpload(); wg.Wait() }()

	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	say := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		out.WriteString(line + "\n")
		out.Flush()
	}
	rec := record.New(durableSink{next: sp, onDurable: func(evs []*interlockv1.SessionEvent) {
		for _, ev := range evs {
			h := hashEvent(ev)
			say(hex.EncodeToString(h[:]))
		}
	}}, record.Options{})
	if sessions > 0 {
		if err := produce(ctx, rec, id.NodeID, uint64(os.Getpid()), 2, sessions, childPerSession); err != nil {
			return err
		}
		say(childRecorded)
	}
	for {
		st := sp.Stats()
		if st.UnsealedEvents == 0 && st.PendingChunks == 0 && up.Acked() == st.LastSeq {
			say(childUploaded)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
