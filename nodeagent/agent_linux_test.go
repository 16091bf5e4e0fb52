// SPDX-License-Identifier: Apache-2.0

// End-to-end tests of the node agent: real BPF, real cgroups, real
// processes on both ends.

package nodeagent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/bpf/bpftest"
	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/nodeagent/workload"
	"github.com/interlockhq/interlock/test/echoproc"
	"github.com/interlockhq/interlock/test/podsim"
	"golang.org/x/sys/unix"
)

// freePort returns a loopback TCP port that is free on both 127.0.0.1 and
// [::1] right now.
func freePort(t *testing.T) uint16 {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port)))
		ln.Close()
		if err == nil {
			ln6.Close()
			return uint16(port)
		}
	}
	t.Fatal("no free port on both loopbacks")
	return 0
}

// running is an agent serving in the background.
type running struct {
	a    *Agent
	stop context.CancelFunc
	done chan error
	once sync.Once
}

func startAgent(t *testing.T, cfg Config) *running {
	t.Helper()
	bpftest.Require(t)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{a: a, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

// shutdown stops the agent and waits for Run to return (idempotent).
func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.stop()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("agent did not stop")
		}
	})
}

func TestAgentExecAndPassthrough(t *testing.T) {
	bpftest.Require(t)
	pins := bpftest.PinDir()
	r := startAgent(t, Config{BPF: bpf.Config{PinDir: pins}, ProxyPort: freePort(t), DetachOnExit: true})
	sock := filepath.Join(t.TempDir(), "node.sock")
	ctx, cancel := context.WithCancel(t.Context())
	apiDone := make(chan error, 1)
	go func() { apiDone <- r.a.ServeAPI(ctx, sock) }()
	t.Cleanup(func() { cancel(); <-apiDone })
	c := NewClient(sock)
	waitAPI(t, c)

	dst := echoproc.RandomLoopback(443)
	srv := echoproc.StartServer(t, dst)
	const size = 1 << 20
	agent := echoproc.Agent(dst, size)
	var out strings.Builder
	agent.Stdout = &out
	if err := Exec(t.Context(), c, "sdk-agent", agent, 5*time.Second); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	res, err := echoproc.ParseAgent([]byte(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Peer != dst.String() || !res.Match || res.Echoed != size {
		t.Errorf("agent saw %+v, want peer %v and %d bytes echoed", res, dst, size)
	}
	if n := srv.Accepted(t); n != 1 {
		t.Errorf("destination accepted %d connections, want 1", n)
	}
	if got := r.a.Accepted(); got != 1 {
		t.Errorf("agent accepted %d connections, want 1", got)
	}
	// Exec cleaned up: workload unregistered, cgroup gone.
	st, err := c.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Workloads) != 0 {
		t.Errorf("workloads after exec = %+v, want none", st.Workloads)
	}
	root, err := cgroups.Mount()
	if err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(root, execCgroupParent, "sdk-agent-*"))
	if len(matches) != 0 {
		t.Errorf("exec left cgroups: %v", matches)
	}
}

func TestExecExitStatus(t *testing.T) {
	bpftest.Require(t)
	r := startAgent(t, Config{BPF: bpf.Config{PinDir: bpftest.PinDir()}, ProxyPort: freePort(t), DetachOnExit: true})
	sock := filepath.Join(t.TempDir(), "node.sock")
	ctx, cancel := context.WithCancel(t.Context())
	apiDone := make(chan error, 1)
	go func() { apiDone <- r.a.ServeAPI(ctx, sock) }()
	t.Cleanup(func() { cancel(); <-apiDone })
	c := NewClient(sock)
	waitAPI(t, c)
	err := Exec(t.Context(), c, "fails", exec.Command("sh", "-c", "exit 3"), time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("Exec = %v, want exit status 3", err)
	}
}

func TestExecWithoutAgent(t *testing.T) {
	c := NewClient(filepath.Join(t.TempDir(), "none.sock"))
	err := Exec(t.Context(), c, "x", exec.Command("true"), time.Second)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the node agent") {
		t.Fatalf("Exec without an agent = %v, want a clear error", err)
	}
}

func waitAPI(t *testing.T, c *Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Status(t.Context())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node API not up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRestartUnderLoad restarts the node agent while a workload dials in a
// tight loop: no connection may bypass the proxy, and none may fail other
// than by the fail-closed refusal during the restart window.
func TestRestartUnderLoad(t *testing.T) {
	bpftest.Require(t)
	pins := bpftest.PinDir()
	port := freePort(t)
	w := podsim.Start(t, podsim.Options{Name: "restart", HostNetwork: true})
	disc := workload.Config{VMs: []workload.VM{{Name: "looper", Cgroup: w.CgroupPath()}}}

	first := startAgent(t, Config{BPF: bpf.Config{PinDir: pins}, ProxyPort: port, Discovery: disc})
	dst := echoproc.RandomLoopback(443)
	srv := echoproc.StartServer(t, dst)
	loop := echoproc.Loop(dst, 3*time.Second)
	var out strings.Builder
	loop.Stdout = &out
	if err := w.Start(loop); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	stopAt := time.Now()
	first.shutdown(t)
	second := startAgent(t, Config{BPF: bpf.Config{PinDir: pins}, ProxyPort: port, Discovery: disc, DetachOnExit: true})
	t.Logf("restart took %v (stop, take over pins, listen, re-attach)", time.Since(stopAt))
	if err := loop.Wait(); err != nil {
		t.Fatalf("dial loop: %v", err)
	}
	res, err := echoproc.ParseLoop([]byte(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	proxied := first.a.Accepted() + second.a.Accepted()
	second.shutdown(t)
	accepted := srv.Accepted(t)
	t.Logf("dial loop: %d ok, %d refused (fail closed), %d other; refusal window %.1f ms; proxied %d; destination accepted %d",
		res.OK, res.Refused, res.Other, float64(res.LastRefusedNs-res.FirstRefusedNs)/1e6, proxied, accepted)
	if res.Other != 0 {
		t.Errorf("%d connections failed other than by refusal: %v", res.Other, res.Errors)
	}
	if uint64(res.OK) != proxied || accepted != res.OK {
		t.Errorf("%d connections succeeded, the agents proxied %d, the destination accepted %d: some bypassed the proxy or were lost", res.OK, proxied, accepted)
	}
	if res.OK < 100 || first.a.Accepted() == 0 || second.a.Accepted() == 0 {
		t.Errorf("too little traffic around the restart to tell: %+v (first agent %d, second %d)", res, first.a.Accepted(), second.a.Accepted())
	}
	if _, err := os.Stat(pins); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin dir %s left after detach-on-exit: %v", pins, err)
	}
}

// TestPod intercepts a pod: the agent opens its listeners inside the pod's
// network namespace, the pod's connection to 127.0.0.9:443 (its own
// loopback) is redirected there, and the agent dials the original
// destination from inside the pod's namespace.
func TestPod(t *testing.T) {
	bpftest.Require(t)
	pod := podsim.Start(t, podsim.Options{Name: "pod"})
	var st unix.Stat_t
	if err := unix.Stat(pod.NetnsPath(), &st); err != nil {
		t.Fatal(err)
	}
	var a *Agent
	seen := make(chan *l7proxy.Conn, 1)
	r := startAgent(t, Config{
		BPF: bpf.Config{PinDir: bpftest.PinDir()}, ProxyPort: freePort(t), DetachOnExit: true,
		Handle: func(ctx context.Context, c *l7proxy.Conn, dial Dialer) {
			seen <- c
			_, _ = passthrough(ctx, a.log, c, dial)
		},
	})
	a = r.a
	w := workload.Workload{Kind: workload.KindPod, Name: "agent-7d9f", Namespace: "ai", PodUID: "uid-1",
		CgroupPath: pod.CgroupPath(), CgroupID: pod.CgroupID(), NetnsPath: pod.NetnsPath(), NetnsInode: st.Ino}
	if _, err := a.Attach(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddrPort("127.0.0.9:443")
	srv := echoproc.StartServerWith(t, dst, pod.Start)
	agent := echoproc.Agent(dst, 4096)
	var out strings.Builder
	agent.Stdout = &out
	if err := pod.Start(agent); err != nil {
		t.Fatal(err)
	}
	if err := agent.Wait(); err != nil {
		t.Fatalf("agent: %v", err)
	}
	res, err := echoproc.ParseAgent([]byte(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Peer != dst.String() || !res.Match {
		t.Errorf("agent saw %+v", res)
	}
	c := <-seen
	if c.Workload.Kind != "pod" || c.Workload.Name != w.Name || c.Workload.Namespace != "ai" || c.Original.Dst != dst {
		t.Errorf("proxy saw workload %+v dst %v", c.Workload, c.Original.Dst)
	}
	if n := srv.Accepted(t); n != 1 {
		t.Errorf("destination in the pod accepted %d connections, want 1", n)
	}

	// Detached (its last process gone), the workload still names a
	// connection it made before, accepted late; an unknown cgroup does not.
	if err := a.Detach(w.CgroupID); err != nil {
		t.Fatal(err)
	}
	if got, ok := a.lookup(w.CgroupID); !ok || got.Name != w.Name || got.Namespace != "ai" {
		t.Errorf("lookup of a just-detached workload = %+v, %v", got, ok)
	}
	if got, ok := a.lookup(w.CgroupID + 1<<40); ok {
		t.Errorf("lookup of a cgroup never attached = %+v", got)
	}
}

// An agent that will never run (NewNode failed after New) gives its port
// and BPF objects back: a new agent takes both over.
func TestAbandonedAgentReleasesListeners(t *testing.T) {
	bpftest.Require(t)
	pins, port := bpftest.PinDir(), freePort(t)
	a, err := New(Config{BPF: bpf.Config{PinDir: pins}, ProxyPort: port})
	if err != nil {
		t.Fatal(err)
	}
	a.abandon()
	r := startAgent(t, Config{BPF: bpf.Config{PinDir: pins}, ProxyPort: port, DetachOnExit: true})
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))), time.Second)
	if err != nil {
		t.Fatalf("the second agent does not listen on port %d: %v", port, err)
	}
	c.Close()
	r.shutdown(t)
}
