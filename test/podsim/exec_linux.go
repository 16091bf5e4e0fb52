// SPDX-License-Identifier: Apache-2.0

// Workload.Start, Do and Pids: running code and commands inside.

package podsim

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/vishvananda/netns"
)

// Start starts cmd inside the workload: in its cgroup from the first
// instruction, in its network namespace (a pod) and with its hosts and
// resolv.conf files as /etc/hosts and /etc/resolv.conf. The process is cmd's
// own (cmd.Process, cmd.Wait work as usual); cmd.SysProcAttr may be nil and
// is replaced by a copy with the fields Start needs (see the package doc).
// The caller waits for cmd; Close kills it if it still runs.
func (w *Workload) Start(cmd *exec.Cmd) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return fmt.Errorf("podsim: start: %w", net.ErrClosed)
	}
	attr, err := w.procAttr(cmd.SysProcAttr)
	if err != nil {
		return fmt.Errorf("podsim: start: %w", err)
	}
	cmd.SysProcAttr = attr
	var enter func() error
	if w.pod {
		enter = func() error { return enterNetns(w.sys.ns) }
	}
	// The tracer is the thread that forks, so cmd.Start, the wait for the
	// stop and the detach must all run on the one locked thread.
	err = onThread(enter, func() error {
		if err := cmd.Start(); err != nil {
			return err
		}
		if err := w.prepare(cmd.Process.Pid); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("podsim: start %s: %w", filepath.Base(cmd.Path), err)
	}
	return nil
}

// procAttr returns a copy of attr (which may be nil) set up for Start.
func (w *Workload) procAttr(attr *syscall.SysProcAttr) (*syscall.SysProcAttr, error) {
	var a syscall.SysProcAttr
	if attr != nil {
		a = *attr
	}
	if a.Ptrace {
		return nil, errors.New("SysProcAttr.Ptrace is used by podsim")
	}
	if a.UseCgroupFD {
		return nil, errors.New("SysProcAttr.UseCgroupFD is set by podsim")
	}
	if w.pod && (a.Cloneflags|a.Unshareflags)&syscall.CLONE_NEWNET != 0 {
		return nil, errors.New("CLONE_NEWNET would leave the pod's network namespace")
	}
	a.UseCgroupFD = true
	a.CgroupFD = w.sys.cgroupFD
	a.Ptrace = true
	a.Unshareflags |= syscall.CLONE_NEWNS
	return &a, nil
}

// Do runs fn on the calling goroutine, locked to an OS thread that is inside
// the pod's network namespace, so that sockets fn opens live there (listen
// or dial from inside). The thread returns to the host namespace afterwards.
// For a VM-style workload Do just runs fn. Goroutines that fn starts run
// elsewhere, in the host namespace. fn may call t.FailNow.
func (w *Workload) Do(fn func() error) error {
	if !w.pod {
		w.mu.RLock()
		closed := w.closed
		w.mu.RUnlock()
		if closed {
			return fmt.Errorf("podsim: do: %w", net.ErrClosed)
		}
		return fn()
	}
	return onThread(func() error {
		w.mu.RLock()
		defer w.mu.RUnlock()
		if w.closed {
			return fmt.Errorf("podsim: do: %w", net.ErrClosed)
		}
		if err := enterNetns(w.sys.ns); err != nil {
			return fmt.Errorf("podsim: do: %w", err)
		}
		return nil
	}, fn)
}

func enterNetns(ns netns.NsHandle) error {
	if err := netns.Set(ns); err != nil {
		return fmt.Errorf("enter netns: %w", err)
	}
	return nil
}

// Pids returns the processes in the workload's cgroup (cgroup.procs; not
// those of cgroups a process made below it).
func (w *Workload) Pids() ([]int, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return nil, fmt.Errorf("podsim: pids: %w", net.ErrClosed)
	}
	pids, err := cgroups.Procs(w.cgroupPath)
	if err != nil {
		return nil, fmt.Errorf("podsim: pids: %w", err)
	}
	return pids, nil
}
