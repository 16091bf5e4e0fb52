// SPDX-License-Identifier: Apache-2.0

// The child's mount namespace: catching the child at its execve stop and
// bind-mounting the workload's files over /etc/hosts and /etc/resolv.conf
// (and a fresh sysfs over /sys for a pod) before it runs.

package podsim

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cldTrapped is CLD_TRAPPED, the si_code of a ptrace stop.
const cldTrapped = 4

// setupScript runs in the child's mount namespace (and, for a pod, its
// network namespace, so that the new sysfs shows the pod's interfaces).
// Args: mount, hosts file, resolv.conf file or "", "pod" or "".
const setupScript = `set -e
"$1" -n --bind "$2" /etc/hosts
if [ -n "$3" ]; then "$1" -n --bind "$3" /etc/resolv.conf; fi
if [ "$4" = pod ]; then "$1" -n -t sysfs -o nosuid,nodev,noexec sysfs /sys; fi
`

// prepare sets up the mount namespace of the child pid, which Start left
// stopped at its execve, and lets it run. It must run on the thread that
// started the child (its tracer).
func (w *Workload) prepare(pid int) error {
	if err := waitTrap(pid); err != nil {
		return err
	}
	// If this process dies before the detach, the child dies too instead
	// of running without its files.
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_EXITKILL); err != nil {
		return fmt.Errorf("ptrace options: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"--target", strconv.Itoa(pid), "--mount"}
	if w.pod {
		args = append(args, "--net")
	}
	mode := ""
	if w.pod {
		mode = "pod"
	}
	args = append(args, "--", w.tools.sh, "-c", setupScript, "podsim-setup",
		w.tools.mount, w.hostsFile, w.resolvFile, mode)
	helper := exec.CommandContext(ctx, w.tools.nsenter, args...)
	helper.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	if out, err := helper.CombinedOutput(); err != nil {
		return fmt.Errorf("set up mounts: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if err := unix.PtraceDetach(pid); err != nil {
		return fmt.Errorf("ptrace detach: %w", err)
	}
	return nil
}

// waitTrap waits until the child stops at its execve. It does not reap a
// child that died instead, so that cmd.Wait still can.
func waitTrap(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WSTOPPED|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for exec stop: %w", err)
		}
		if info.Code != cldTrapped {
			return fmt.Errorf("wait for exec stop: child ended first (si_code %d)", info.Code)
		}
		return nil
	}
}
