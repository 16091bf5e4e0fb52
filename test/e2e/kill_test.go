// SPDX-License-Identifier: Apache-2.0

package e2e_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/nodeagent/controlclient"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
)

// nodeProcess is the test binary re-executed as a node.
type nodeProcess struct {
	cmd  *exec.Cmd
	done chan error

	mu       sync.Mutex
	durable  map[[32]byte]bool
	lines    []string // other lines
	linesSig chan struct{}
}

func startNodeProcess(t *testing.T, p *plane.Plane, dir string, sessions int, durable map[[32]byte]bool) *nodeProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childServerEnv+"="+p.Addr, fmt.Sprintf("%s=%d", childSessionsEnv, sessions))
	cmd.Stderr = t.Output()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	np := &nodeProcess{cmd: cmd, done: make(chan error, 1), durable: durable, linesSig: make(chan struct{}, 1)}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			np.mu.Lock()
			if b, err := hex.DecodeString(line); err == nil && len(b) == 32 {
				np.durable[[32]byte(b)] = true
			} else {
				np.lines = append(np.lines, line)
				select {
				case np.linesSig <- struct{}{}:
				default:
				}
			}
			np.mu.Unlock()
		}
	}()
	go func() {
		<-read // every line, a cut last one too (it is not a hash), before Wait
		np.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-np.done
		}
	})
	return np
}

func (np *nodeProcess) said(line string) bool {
	np.mu.Lock()
	defer np.mu.Unlock()
	for _, l := range np.lines {
		if l == line {
			return true
		}
	}
	return false
}

func (np *nodeProcess) count() int {
	np.mu.Lock()
	defer np.mu.Unlock()
	return len(np.durable)
}

// A node process killed with SIGKILL mid-upload, then started again:
// every event it had made durable arrives, once, in order.
func TestNodeKilledMidUpload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := plane.Start(t, nil)
	dir := t.TempDir()
	id := enroll(t, p, dir, "node-kill")
	cfg := clientConfig(t, p)
	cfg.Identity = id
	self, err := controlclient.Dial(cfg) // the same node, to ask Resume
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	sessions := interlockv1.NewSessionServiceClient(self.Conn())

	durable := map[[32]byte]bool{}
	np := startNodeProcess(t, p, dir, 40, durable)
	for {
		res, err := sessions.Resume(ctx, &interlockv1.ResumeRequest{})
		if err == nil && res.GetSeq() >= 20 {
			break
		}
		if ctx.Err() != nil || np.said(childRecorded) {
			t.Fatalf("the node finished recording (or the test timed out) before 20 chunks were uploaded: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := np.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-np.done
	if np.said(childRecorded) {
		t.Fatal("the node had recorded everything before it was killed")
	}
	res, _ := sessions.Resume(ctx, &interlockv1.ResumeRequest{})
	killedAt := np.count()
	t.Logf("killed with %d events durable, %d chunks at the control plane", killedAt, res.GetSeq())

	// Start it again, upload only.
	np2 := startNodeProcess(t, p, dir, 0, durable)
	select {
	case err := <-np2.done:
		if err != nil || !np2.said(childUploaded) {
			t.Fatalf("restarted node: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("restarted node did not finish uploading")
	}
	got, err := readNode(ctx, p.Person(p.AdminToken), id.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	n := checkArrived(t, got, durable, true)
	if n < killedAt {
		t.Fatalf("%d events arrived, %d were durable", n, killedAt)
	}
	t.Logf("%d events arrived (%d durable before the kill, %d written but unconfirmed)", n, killedAt, n-killedAt)
}
