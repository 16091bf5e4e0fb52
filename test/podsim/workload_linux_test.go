// SPDX-License-Identifier: Apache-2.0

// Tests of commands started inside workloads: namespaces, cgroup membership,
// the process being the caller's own command, and concurrent starts.

package podsim

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// hostLinks returns the host's interface names, for VM-style checks.
func hostLinks(t testing.TB) []string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	slices.Sort(names)
	return names
}

// ipLinkNames parses `ip -o link` output into sorted interface names.
func ipLinkNames(out string) []string {
	var names []string
	for _, line := range lines(out) {
		f := strings.Fields(line)
		if len(f) > 1 {
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func TestIsolation(t *testing.T) {
	requireTool(t, "ip")
	for _, tt := range []struct {
		name  string
		opts  Options
		links []string // nil: the host's
	}{
		{"pod", Options{}, []string{"lo"}},
		{"pod with veth", Options{Veth: true}, []string{"eth0", "lo"}},
		{"vm", Options{HostNetwork: true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := Start(t, tt.opts)
			before := hostLinks(t)
			views := map[string][]string{
				"ip -o link":      ipLinkNames(mustOutput(t, w, exec.Command("ip", "-o", "link"))),
				"/sys/class/net":  lines(mustOutput(t, w, exec.Command("ls", "/sys/class/net"))),
				"Go's Interfaces": lines(mustOutput(t, w, helperCmd(t, "links", ""))),
			}
			want := tt.links
			if want == nil {
				// Other tests add and remove interfaces meanwhile: those the
				// host had before and after must all be visible inside.
				after := hostLinks(t)
				want = slices.DeleteFunc(before, func(n string) bool { return !slices.Contains(after, n) })
			}
			for view, got := range views {
				if tt.links != nil && !slices.Equal(got, want) {
					t.Errorf("%s inside: %v, want %v", view, got, want)
				}
				for _, name := range want {
					if !slices.Contains(got, name) {
						t.Errorf("%s inside: %v, missing %s", view, got, name)
					}
				}
			}

			// The namespace a process sees is the workload's (or the host's).
			cmd := exec.Command("sleep", "60")
			if err := w.Start(cmd); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cmd.Process.Kill()
				cmd.Wait()
			}()
			pid := cmd.Process.Pid
			wantNS := hostNetns(t)
			if p := w.NetnsPath(); p != "" {
				wantNS = inode(t, p)
			}
			if got := inode(t, fmt.Sprintf("/proc/%d/ns/net", pid)); got != wantNS {
				t.Errorf("netns of pid %d is %d, want %d", pid, got, wantNS)
			}
			if a, b := inode(t, fmt.Sprintf("/proc/%d/ns/mnt", pid)), inode(t, "/proc/self/ns/mnt"); a == b {
				t.Errorf("pid %d shares the test's mount namespace", pid)
			}
			// Its PID is in cgroup.procs while it runs.
			pids, err := w.Pids()
			if err != nil || !slices.Contains(pids, pid) {
				t.Errorf("Pids() = %v, %v; want %d in it", pids, err, pid)
			}
			cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
			rel, _ := filepath.Rel(w.cgroupRoot, w.CgroupPath())
			if err != nil || !strings.Contains(string(cg), "0::/"+rel+"\n") {
				t.Errorf("/proc/%d/cgroup = %q, %v; want 0::/%s", pid, cg, err, rel)
			}
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil || !strings.Contains(string(status), "TracerPid:\t0\n") {
				t.Errorf("pid %d still traced: %v", pid, err)
			}
		})
	}
}

// hostNetns returns the inode of the host's network namespace: that of an
// unlocked thread of this process. (/proc/self/ns/net is the main thread's,
// which may be inside a pod for a moment when another test runs Start on it.)
func hostNetns(t testing.TB) uint64 {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return inode(t, "/proc/thread-self/ns/net")
}

func inode(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestStartIsTheCommand checks that the process Start runs is cmd itself:
// its PID, argv[0], args, env, working directory and stdin, and that it is
// in the cgroup from its first instruction (it reads its cgroup at once).
func TestStartIsTheCommand(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{Name: "cmd"})
	dir := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", `echo "$$|$(head -zn1 /proc/$$/cmdline | tr -d '\0')|$0|$1|$FOO|$(pwd)|$(cat)|$(grep ^0:: /proc/self/cgroup)"`, "zero", "arg1")
	cmd.Args[0] = "custom-argv0"
	cmd.Env = []string{"FOO=bar baz", "PATH=/usr/bin:/bin"}
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("stdin-data")
	attr := &syscall.SysProcAttr{Setpgid: true}
	cmd.SysProcAttr = attr
	out := strings.TrimSpace(mustOutput(t, w, cmd))
	rel, _ := filepath.Rel(w.cgroupRoot, w.CgroupPath())
	want := strings.Join([]string{strconv.Itoa(cmd.Process.Pid), "custom-argv0", "zero", "arg1", "bar baz", dir, "stdin-data", "0::/" + rel}, "|")
	if out != want {
		t.Fatalf("inside:\n got %s\nwant %s", out, want)
	}
	if attr.Ptrace || attr.UseCgroupFD || !cmd.SysProcAttr.Setpgid {
		t.Fatalf("Start changed the caller's SysProcAttr or dropped its fields: %+v / %+v", attr, cmd.SysProcAttr)
	}
}

func TestStartRefuses(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	for _, tt := range []struct {
		name string
		attr *syscall.SysProcAttr
		want string
	}{
		{"ptrace", &syscall.SysProcAttr{Ptrace: true}, "Ptrace"},
		{"cgroup fd", &syscall.SysProcAttr{UseCgroupFD: true}, "UseCgroupFD"},
		{"new netns", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNET}, "CLONE_NEWNET"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("true")
			cmd.SysProcAttr = tt.attr
			if err := w.Start(cmd); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start: %v, want error about %s", err, tt.want)
			}
		})
	}
	t.Run("missing program", func(t *testing.T) {
		if err := w.Start(exec.Command("/nonexistent/podsim-program")); err == nil {
			t.Fatal("Start of a missing program succeeded")
		}
		if pids, err := w.Pids(); err != nil || len(pids) != 0 {
			t.Fatalf("Pids() = %v, %v; want none", pids, err)
		}
	})
}

// TestConcurrentStarts starts commands from many goroutines at once: each
// must land in the pod, and no thread may be left in the pod's namespace.
func TestConcurrentStarts(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{Veth: true})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%2 == 0 {
				out, errs, err := output(t, w, helperCmd(t, "links", ""))
				if err != nil || !slices.Equal(lines(out), []string{"eth0", "lo"}) {
					t.Errorf("links inside: %q, %v, %s", out, err, errs)
				}
				return
			}
			if err := w.Do(func() error { return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	// fn may end its goroutine (t.FailNow does): the thread is restored.
	wg.Go(func() {
		w.Do(func() error {
			runtime.Goexit()
			return nil
		})
		t.Error("Do returned after runtime.Goexit")
	})
	wg.Wait()
	// No thread of this process is left in the pod's namespace.
	pod := inode(t, w.NetnsPath())
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/task/"+task.Name()+"/ns/net", &st); err != nil {
			continue // thread gone
		}
		if st.Ino == pod {
			t.Errorf("thread %s left in netns %d", task.Name(), st.Ino)
		}
	}
}
