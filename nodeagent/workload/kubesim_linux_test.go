// SPDX-License-Identifier: Apache-2.0

// A simulated kubepods tree for tests: real cgroup v2 directories under a
// unique root inside the cgroup2 mount, in either driver's layout, and real
// processes in its container cgroups.

package workload

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/testenv"
	"golang.org/x/sys/unix"
)

// kubesim is one test's simulated kubelet cgroup root.
type kubesim struct {
	mount string // the cgroup2 mount
	root  string // <mount>/interlock-kubesim-<rand>: the kubelet's --cgroup-root
	rel   string // root relative to mount
	d     driver
}

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUID returns a random pod UID in Kubernetes' UUID form.
func newUID() string {
	h := randHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// cgroupMountFor returns the cgroup2 mount, or skips (fails under CI).
func cgroupMountFor(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t, "makes cgroups, network namespaces and processes")
	m, err := cgroups.Mount()
	if errors.Is(err, errors.ErrUnsupported) {
		testenv.Skip(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newKubesim makes an empty kubepods hierarchy of driver d (with its QoS
// parents) under a unique root, removed with everything in it on cleanup.
func newKubesim(t *testing.T, d driver) *kubesim {
	t.Helper()
	k := &kubesim{mount: cgroupMountFor(t), d: d}
	k.rel = "interlock-kubesim-" + randHex(4)
	k.root = filepath.Join(k.mount, k.rel)
	mkdirCgroup(t, k.root)
	top := filepath.Join(k.root, d.root())
	mkdirCgroup(t, top)
	if d == driverSystemd {
		mkdirCgroup(t, filepath.Join(top, "kubepods-burstable.slice"))
		mkdirCgroup(t, filepath.Join(top, "kubepods-besteffort.slice"))
	} else {
		mkdirCgroup(t, filepath.Join(top, "burstable"))
		mkdirCgroup(t, filepath.Join(top, "besteffort"))
	}
	return k
}

// podCgroup makes the cgroup of pod uid with class qos, as the kubelet would.
func (k *kubesim) podCgroup(t *testing.T, uid string, qos QOSClass) string {
	t.Helper()
	dir := filepath.Join(k.root, k.d.podDir(uid, qos))
	mkdirCgroup(t, dir)
	return dir
}

// containerName returns a container cgroup name in the style of a runtime:
// "containerd", "crio", "docker", "bare" (cgroupfs: the id alone) or
// "conmon" (CRI-O's monitor).
func containerName(style string) string {
	id := randHex(32)
	switch style {
	case "containerd":
		return "cri-containerd-" + id + ".scope"
	case "crio":
		// "crio-f…" sorts after "crio-conmon-…": a lookup that did not skip
		// conmon would find it first.
		return "crio-f" + id[1:] + ".scope"
	case "conmon":
		return "crio-conmon-" + id + ".scope"
	case "docker":
		return "docker-" + id + ".scope"
	default:
		return id
	}
}

// container makes a container cgroup of the given style in podDir.
func container(t *testing.T, podDir, style string) string {
	t.Helper()
	dir := filepath.Join(podDir, containerName(style))
	mkdirCgroup(t, dir)
	return dir
}

// mkdirCgroup makes a cgroup directory and removes it (and anything below
// it, killing what runs there) on cleanup, also after a failed test.
func mkdirCgroup(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeCgroupTree(dir); err != nil {
			t.Error(err)
		}
	})
}

// removeCgroupTree removes dir and its descendants, children first; a
// cgroup that still has processes is killed (cgroup.kill) first.
func removeCgroupTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for range 100 {
		err = unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		_ = os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

// runIn starts `sleep` in the cgroup dir from its first instruction
// (CLONE_INTO_CGROUP) and, when pod is not nil, in pod's network namespace
// (forked from a thread inside it). It is killed and reaped on cleanup.
func runIn(t *testing.T, pod *podsim.Workload, dir string) *exec.Cmd {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &unix.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	start := cmd.Start
	if pod != nil {
		start = func() error { return pod.Do(cmd.Start) }
	}
	if err := start(); err != nil {
		t.Fatalf("start sleep in %s: %v", dir, err)
	}
	t.Cleanup(func() { stop(cmd) })
	return cmd
}

// stop kills and reaps cmd; it may be called more than once.
func stop(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// inodeOf returns the inode number of path (following links).
func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// wantCgroup checks a workload's cgroup path and id against dir.
func wantCgroup(t *testing.T, w Workload, dir string) {
	t.Helper()
	if w.CgroupPath != dir {
		t.Errorf("%s: CgroupPath = %s, want %s", w, w.CgroupPath, dir)
	}
	id, err := cgroups.ID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if w.CgroupID != id || id != inodeOf(t, dir) {
		t.Errorf("%s: CgroupID = %d, want %d", w, w.CgroupID, id)
	}
}

// keys returns the workloads' Keys, for messages.
func keys(ws []Workload) string {
	var ks []string
	for _, w := range ws {
		ks = append(ks, w.Key())
	}
	return "[" + strings.Join(ks, " ") + "]"
}
