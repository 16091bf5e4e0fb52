// SPDX-License-Identifier: Apache-2.0

// failmode_test.go tests what happens when the proxy cannot take a
// connection: fail closed by default, fail open where the workload says so,
// and refusal for a cgroup with programs but no workload.

package bpf

import (
	"errors"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/podsim"
	"golang.org/x/sys/unix"
)

func TestFailMode(t *testing.T) {
	tests := []struct {
		name        string
		wl          Workload
		proxyUp     bool // a listener on the proxy port
		noWorkload  bool // remove the workload entry behind Attach's back
		wantErrno   unix.Errno
		wantReached int64 // connections at the original destination
		counter     func(Counters) uint64
	}{
		{"ready but proxy down", Workload{Ready: true}, false, false, unix.EPERM, 0,
			func(c Counters) uint64 { return c.RefusedNotReady }},
		{"proxy up but not ready", Workload{}, true, false, unix.EPERM, 0,
			func(c Counters) uint64 { return c.RefusedNotReady }},
		{"no workload entry", Workload{Ready: true}, true, true, unix.EPERM, 0,
			func(c Counters) uint64 { return c.RefusedNoWorkload }},
		{"fail open, proxy down", Workload{Ready: true, FailOpen: true}, false, false, 0, 1,
			func(c Counters) uint64 { return c.FailedOpen }},
		{"fail open, not ready", Workload{FailOpen: true}, true, false, 0, 1,
			func(c Counters) uint64 { return c.FailedOpen }},
	}
	o := newObjects(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := podsim.Start(t, podsim.Options{Name: "bpf-failmode"})
			proxy := listen(t, w, "127.0.0.1:0")
			wl := tt.wl
			wl.ProxyPort4 = listenerPort(proxy)
			if !tt.proxyUp {
				proxy.Close()
			}
			if err := o.Attach(w.CgroupPath(), wl); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := o.Detach(w.CgroupPath()); err != nil {
					t.Error(err)
				}
			})
			if tt.noWorkload {
				if err := o.objs.Workloads.Delete(w.CgroupID()); err != nil {
					t.Fatal(err)
				}
			}
			orig := listenCount(t, w, "127.0.0.9:443")
			before, err := o.Counters()
			if err != nil {
				t.Fatal(err)
			}
			res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443"})
			if unix.Errno(res.Errno) != tt.wantErrno {
				t.Fatalf("dial: errno %d (%s), want %d (%v)", res.Errno, res.Err, tt.wantErrno, tt.wantErrno)
			}
			t.Logf("connect: errno %d %q after %v", res.Errno, res.Err, time.Duration(res.Nanos))
			if tt.wantErrno != 0 && time.Duration(res.Nanos) > 100*time.Millisecond {
				t.Errorf("refusal took %v, want it at once", time.Duration(res.Nanos))
			}
			deadline := time.Now().Add(2 * time.Second)
			for orig.n.Load() < tt.wantReached && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
			if n := orig.n.Load(); n != tt.wantReached {
				t.Errorf("original destination got %d connections, want %d", n, tt.wantReached)
			}
			after, err := o.Counters()
			if err != nil {
				t.Fatal(err)
			}
			if d := tt.counter(after) - tt.counter(before); d != 1 {
				t.Errorf("counter moved by %d, want 1 (before %+v, after %+v)", d, before, after)
			}
		})
	}
}

// TestSetReady flips readiness on an attached workload.
func TestSetReady(t *testing.T) {
	o := newObjects(t, Config{})
	w := podsim.Start(t, podsim.Options{Name: "bpf-ready"})
	proxy := listen(t, w, "127.0.0.1:0")
	if err := o.Attach(w.CgroupPath(), Workload{ProxyPort4: listenerPort(proxy)}); err != nil {
		t.Fatal(err)
	}
	if res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443"}); unix.Errno(res.Errno) != unix.EPERM {
		t.Fatalf("not ready: %+v, want EPERM", res)
	}
	if err := o.SetReady(w.CgroupID(), true); err != nil {
		t.Fatal(err)
	}
	got := acceptAndLookup(t, o, proxy)
	if res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443", Wait: true}); res.Err != "" {
		t.Fatalf("ready: %+v", res)
	}
	if a := <-got; a.err != nil || a.orig.Dst.String() != "127.0.0.9:443" {
		t.Fatalf("proxy: %+v", a)
	}
	if err := o.SetReady(w.CgroupID(), false); err != nil {
		t.Fatal(err)
	}
	if res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443"}); unix.Errno(res.Errno) != unix.EPERM {
		t.Fatalf("not ready again: %+v, want EPERM", res)
	}
	if err := o.SetReady(12345, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetReady(unknown) = %v, want ErrNotFound", err)
	}
}
