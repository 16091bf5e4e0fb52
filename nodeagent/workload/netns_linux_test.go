// SPDX-License-Identifier: Apache-2.0

// Listening inside a pod's network namespace: reachable from inside the
// pod, not from the host; the namespace cookie; stale namespace paths; and
// threads that always come back to the host's namespace.

package workload

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/test/podsim"
)

// echoServer accepts connections on a listener until it is closed, echoes
// what each sends, and counts them with their netns cookies.
type echoServer struct {
	mu       sync.Mutex
	accepted int
	cookies  []uint64
	wg       sync.WaitGroup
}

func serveEcho(t *testing.T, ln net.Listener) *echoServer {
	e := &echoServer{}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cookie, err := bpf.NetnsCookie(c.(*net.TCPConn))
			if err != nil {
				t.Error(err)
			}
			e.mu.Lock()
			e.accepted++
			e.cookies = append(e.cookies, cookie)
			e.mu.Unlock()
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		e.wg.Wait()
	})
	return e
}

func (e *echoServer) count() (int, []uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.accepted, append([]uint64(nil), e.cookies...)
}

// echo dials addr, sends a line and reads it back.
func echo(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if string(got) != "ping\n" {
		return errors.New("echo: got " + string(got))
	}
	return nil
}

func TestListenInNetns(t *testing.T) {
	pod := podsim.Start(t, podsim.Options{Name: "kubesim-listen"})
	hostBefore, err := hostNetnsInode()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ network, addr string }{{"tcp", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		t.Run(c.network, func(t *testing.T) {
			ln, err := ListenInNetns(t.Context(), pod.NetnsPath(), c.network, c.addr)
			if err != nil {
				t.Fatal(err)
			}
			e := serveEcho(t, ln)
			addr := ln.Addr().String()
			if err := pod.Do(func() error { return echo(addr) }); err != nil {
				t.Fatalf("dial %s from inside the pod: %v", addr, err)
			}
			if err := echo(addr); err == nil {
				t.Fatalf("dial %s from the host reached the pod's listener", addr)
			}
			n, cookies := e.count()
			if n != 1 {
				t.Fatalf("listener accepted %d connections, want 1 (from the pod)", n)
			}
			podCookie, err := NetnsCookieOf(pod.NetnsPath())
			if err != nil {
				t.Fatal(err)
			}
			hostCookie, err := NetnsCookieOf("/proc/thread-self/ns/net")
			if err != nil {
				t.Fatal(err)
			}
			if cookies[0] != podCookie || podCookie == hostCookie || podCookie == 0 {
				t.Errorf("accepted conn's netns cookie %d; NetnsCookieOf pod %d, host %d", cookies[0], podCookie, hostCookie)
			}
		})
	}

	t.Run("Workload.Listen", func(t *testing.T) {
		ino := inodeOf(t, pod.NetnsPath())
		w := Workload{Kind: KindPod, Name: "p", NetnsPath: pod.NetnsPath(), NetnsInode: ino}
		ln, err := w.Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serveEcho(t, ln)
		if err := pod.Do(func() error { return echo(ln.Addr().String()) }); err != nil {
			t.Errorf("dial from inside the pod: %v", err)
		}
		stale := w
		stale.NetnsInode = ino + 1
		if ln, err := stale.Listen(t.Context(), "tcp", "127.0.0.1:0"); !errors.Is(err, ErrNetnsChanged) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("Listen with a stale inode: %v, want ErrNetnsChanged", err)
		}
		host := Workload{Kind: KindVM, Name: "vm"}
		hln, err := host.Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serveEcho(t, hln)
		if err := echo(hln.Addr().String()); err != nil {
			t.Errorf("dial the host workload's listener from the host: %v", err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct{ path, network, addr string }{
			{"/nonexistent/ns/net", "tcp", "127.0.0.1:0"},
			{pod.NetnsPath(), "tcp", "localhost:0"},
			{pod.NetnsPath(), "udp", "127.0.0.1:0"},
			{pod.NetnsPath(), "tcp", "192.0.2.77:0"}, // not an address of the pod
		} {
			if ln, err := ListenInNetns(t.Context(), c.path, c.network, c.addr); err == nil {
				ln.Close()
				t.Errorf("ListenInNetns(%s, %s, %s) succeeded", c.path, c.network, c.addr)
			}
		}
		if _, err := NetnsCookieOf("/nonexistent/ns/net"); err == nil {
			t.Error("NetnsCookieOf a missing path succeeded")
		}
	})

	// Many listeners at once: every thread comes back to the host.
	t.Run("threads", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				ln, err := ListenInNetns(t.Context(), pod.NetnsPath(), "tcp", "127.0.0.1:0")
				if err != nil {
					t.Error(err)
					return
				}
				ln.Close()
				if ino, err := hostNetnsInode(); err != nil || ino != hostBefore {
					t.Errorf("an unlocked thread is in netns %d (%v), want the host's %d", ino, err, hostBefore)
				}
			})
		}
		wg.Wait()
	})
}
