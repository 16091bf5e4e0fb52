// SPDX-License-Identifier: Apache-2.0

// helpers_test.go holds what the tests share: objects with a private pin
// dir, child processes inside workloads, and the proxy and destination
// listeners.

package bpf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/testenv"
)

// requireBPF routes the test's kernel requirements through testenv.
func requireBPF(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t, "loading and attaching BPF programs")
	if err := Probe(); err != nil {
		testenv.Skip(t, "kernel cannot run interception: %v", err)
	}
}

// testPinDir returns a fresh pin dir name, unique per run.
func testPinDir() string {
	return fmt.Sprintf("/sys/fs/bpf/interlock-test-%08x", rand.Uint32())
}

// newObjects loads objects pinned in a private dir and removes every pin and
// link on cleanup.
func newObjects(t testing.TB, cfg Config) *Objects {
	t.Helper()
	requireBPF(t)
	if cfg.PinDir == "" {
		cfg.PinDir = testPinDir()
	}
	o, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAndUnpin(t, o) })
	return o
}

// closeAndUnpin removes o's pins and closes it (detaching its links); an
// already-closed o is fine.
func closeAndUnpin(t testing.TB, o *Objects) {
	t.Helper()
	if err := o.Unpin(); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("unpin: %v", err)
	}
	if err := o.Close(); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("close: %v", err)
	}
	if _, err := os.Stat(o.PinDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin dir %s left behind (stat: %v)", o.PinDir(), err)
	}
}

// child is the test binary running a child mode inside a workload.
type child struct {
	cmd    *exec.Cmd
	result chan dialResult
	stderr bytes.Buffer
}

// startChild runs the test binary in mode inside w (nil: in the test's own
// cgroup and namespace) and returns at once; wait collects the result.
func startChild(t testing.TB, w *podsim.Workload, mode string, req dialReq) *child {
	t.Helper()
	return startChildIn(t, w, nil, mode, req)
}

// startChildAttr runs a child on the host with attr (e.g. another cgroup).
func startChildAttr(t testing.TB, attr *syscall.SysProcAttr, mode string, req dialReq) *child {
	t.Helper()
	return startChildIn(t, nil, attr, mode, req)
}

func startChildIn(t testing.TB, w *podsim.Workload, attr *syscall.SysProcAttr, mode string, req dialReq) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	c := &child{result: make(chan dialResult, 1)}
	c.cmd = exec.Command(exe)
	c.cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childArgsEnv+"="+string(args))
	c.cmd.Stderr = &c.stderr
	c.cmd.SysProcAttr = attr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if w != nil {
		err = w.Start(c.cmd)
	} else {
		err = c.cmd.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		var res dialResult
		if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&res); err != nil {
			res.Err = "no result: " + err.Error()
			res.Errno = -1
		}
		c.result <- res
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return c
}

// wait returns the child's result, failing the test after timeout.
func (c *child) wait(t testing.TB, timeout time.Duration) dialResult {
	t.Helper()
	select {
	case res := <-c.result:
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v; stderr: %s", err, c.stderr.String())
		}
		return res
	case <-time.After(timeout):
		t.Fatalf("child: no result after %v; stderr: %s", timeout, c.stderr.String())
	}
	return dialResult{}
}

// dial runs one dial in w and returns its result and the child's pid.
func dial(t testing.TB, w *podsim.Workload, req dialReq) (dialResult, int) {
	t.Helper()
	c := startChild(t, w, "dial", req)
	return c.wait(t, 30*time.Second), c.cmd.Process.Pid
}

// counter is a destination listener that counts the connections it gets.
type counter struct {
	ln *net.TCPListener
	n  atomic.Int64
	wg sync.WaitGroup
}

// listenCount listens on addr, inside w's namespace when w is a pod (on the
// host when w is nil), and counts connections until cleanup.
func listenCount(t testing.TB, w *podsim.Workload, addr string) *counter {
	t.Helper()
	c := &counter{ln: listen(t, w, addr)}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			conn, err := c.ln.Accept()
			if err != nil {
				return
			}
			c.n.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() {
		c.ln.Close()
		c.wg.Wait()
	})
	return c
}

// listen opens a listener, inside w's namespace when w is a pod (or on the
// host when w is nil), closed on cleanup.
func listen(t testing.TB, w *podsim.Workload, addr string) *net.TCPListener {
	t.Helper()
	var ln net.Listener
	open := func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}
	var err error
	if w != nil {
		err = w.Do(open)
	} else {
		err = open()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

func listenerPort(ln *net.TCPListener) uint16 {
	return netip.MustParseAddrPort(ln.Addr().String()).Port()
}

// accepted is one connection the proxy accepted and resolved.
type accepted struct {
	orig   Original
	remote netip.AddrPort
	err    error
}

// acceptAndLookup accepts one connection on the proxy listener, resolves it
// with NetnsCookie and Lookup while the client waits, then releases the
// client by writing a byte.
func acceptAndLookup(t testing.TB, o *Objects, ln *net.TCPListener) <-chan accepted {
	t.Helper()
	out := make(chan accepted, 1)
	go func() {
		var a accepted
		defer func() { out <- a }()
		ln.SetDeadline(time.Now().Add(30 * time.Second))
		conn, err := ln.AcceptTCP()
		if err != nil {
			a.err = err
			return
		}
		defer conn.Close()
		a.remote = netip.MustParseAddrPort(conn.RemoteAddr().String())
		cookie, err := NetnsCookie(conn)
		if err != nil {
			a.err = err
			return
		}
		a.orig, a.err = o.Lookup(cookie, a.remote)
		conn.Write([]byte("k"))
	}()
	return out
}

func randomLoopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(250)), byte(rand.IntN(256)), byte(2 + rand.IntN(250))})
}
