// SPDX-License-Identifier: Apache-2.0

// End-to-end tests of the accept side and passthrough with real BPF
// programs, a real workload cgroup and real processes.

package l7proxy

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/bpf/bpftest"
	"github.com/interlockhq/interlock/test/echoproc"
	"github.com/interlockhq/interlock/test/podsim"
)

// fixture is a workload intercepted by real BPF towards a proxy listener.
type fixture struct {
	objs *bpf.Objects
	w    *podsim.Workload
	l    *Listener
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	objs := bpftest.Load(t, bpf.Config{})
	w := podsim.Start(t, podsim.Options{Name: "l7p", HostNetwork: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewListener(ln, ListenerConfig{
		Resolver: objs,
		Workload: func(id uint64) (Workload, bool) {
			if id != w.CgroupID() {
				return Workload{}, false
			}
			return Workload{Kind: "vm", Name: "agent", CgroupPath: w.CgroupPath(), CgroupID: id}, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	if err := objs.Attach(w.CgroupPath(), bpf.Workload{ID: 7, ProxyPort4: port, Ready: true}); err != nil {
		t.Fatal(err)
	}
	return &fixture{objs: objs, w: w, l: l}
}

// procIO returns this process's rchar and wchar: bytes that passed through
// read/write-like system calls into or out of user space. splice(2) does
// not count.
func procIO(t *testing.T) (rchar, wchar int64) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		fmt.Sscanf(line, "rchar: %d", &rchar)
		fmt.Sscanf(line, "wchar: %d", &wchar)
	}
	return rchar, wchar
}

// TestPassthroughSplice: an unmodified process in an intercepted cgroup
// dials a destination; the proxy accepts with the right original
// destination and workload, relays 64 MiB both ways to the real
// destination, and none of those bytes cross the proxy's user space.
func TestPassthroughSplice(t *testing.T) {
	f := newFixture(t)
	dst := echoproc.RandomLoopback(443)
	srv := echoproc.StartServer(t, dst)

	const size = 64 << 20
	agent := echoproc.Agent(dst, size)
	var agentOut strings.Builder
	agent.Stdout = &agentOut
	if err := f.w.Start(agent); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := f.l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Original.Dst != dst || c.Upstream() != dst {
		t.Errorf("original destination = %v (upstream %v), want %v", c.Original.Dst, c.Upstream(), dst)
	}
	if c.Original.PID != uint32(agent.Process.Pid) || c.Original.UID != uint32(os.Getuid()) {
		t.Errorf("original pid/uid = %d/%d, want %d/%d", c.Original.PID, c.Original.UID, agent.Process.Pid, os.Getuid())
	}
	if c.Workload.Name != "agent" || c.Workload.CgroupID != f.w.CgroupID() || c.Original.WorkloadID != 7 {
		t.Errorf("workload = %+v (id %d), want agent in cgroup %d (id 7)", c.Workload, c.Original.WorkloadID, f.w.CgroupID())
	}

	// The proxy is outside every workload: its dial is not redirected.
	up, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(c.Upstream()))
	if err != nil {
		t.Fatal(err)
	}
	r0, w0 := procIO(t)
	st, err := Passthrough(ctx, c.TCPConn, up)
	r1, w1 := procIO(t)
	if err != nil {
		t.Fatal(err)
	}
	if st.FromClient != size || st.ToClient != size {
		t.Errorf("relayed %d up, %d down; want %d each", st.FromClient, st.ToClient, size)
	}
	// Only a few small reads (of /proc/self/io itself) may show up.
	if dr, dw := r1-r0, w1-w0; dr > size/64 || dw > size/64 {
		t.Errorf("passthrough moved %d bytes in and %d out of user space for %d relayed: not spliced", dr, dw, 2*size)
	} else {
		t.Logf("user-space bytes during a %d MiB two-way passthrough: read %d, written %d", size>>20, dr, dw)
	}

	if err := agent.Wait(); err != nil {
		t.Fatalf("agent: %v", err)
	}
	res, err := echoproc.ParseAgent([]byte(agentOut.String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Peer != dst.String() || !res.Match || res.Echoed != size {
		t.Errorf("agent saw %+v; want peer %v and its %d bytes echoed intact", res, dst, size)
	}
	if n := srv.Accepted(t); n != 1 {
		t.Errorf("destination accepted %d connections, want 1 (the proxy's)", n)
	}
}

// TestAcceptRefusesUnrecorded: a connection to the proxy listener that the
// kernel did not redirect (here, the test dialing it directly) is closed,
// never served.
func TestAcceptRefusesUnrecorded(t *testing.T) {
	f := newFixture(t)
	c, err := net.Dial("tcp", f.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if got, err := f.l.Accept(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Accept = %v, %v; want the unrecorded connection refused and the deadline", got, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("unrecorded connection read %d bytes, want it closed", n)
	}
}
