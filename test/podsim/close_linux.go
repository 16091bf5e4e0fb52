// SPDX-License-Identifier: Apache-2.0

// Workload.Close and the teardown New also uses when it fails halfway.

package podsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
	"golang.org/x/sys/unix"
)

// closeTimeout bounds the wait for the workload's processes to die.
const closeTimeout = 15 * time.Second

// Close kills every process left in the workload's cgroup, waits until it is
// empty and removes the cgroup, the veth, the network namespace and the
// files. It does not reap the processes: whoever started one waits for it.
// Close is idempotent: every call returns the result of the first. Start and
// Do fail with net.ErrClosed afterwards.
func (w *Workload) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		if err := w.teardown(); err != nil {
			w.closeErr = fmt.Errorf("podsim: close %s: %w", w.name, err)
		}
	})
	return w.closeErr
}

// teardown removes whatever of the workload exists, in reverse order of
// making, and keeps going past errors.
func (w *Workload) teardown() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	var errs []error
	if w.cgroupPath != "" {
		if err := cgroups.Kill(ctx, w.cgroupPath); err != nil {
			errs = append(errs, err)
		}
	}
	if w.sys.cgroupFD >= 0 {
		if err := unix.Close(w.sys.cgroupFD); err != nil {
			errs = append(errs, fmt.Errorf("close cgroup: %w", err))
		}
		w.sys.cgroupFD = -1
	}
	if w.cgroupPath != "" {
		if err := cgroups.Remove(ctx, w.cgroupPath); err != nil {
			errs = append(errs, err)
		}
	}
	if w.vethName != "" {
		if err := deleteVeth(w.vethName); err != nil {
			errs = append(errs, err)
		}
	}
	if w.sys.ns.IsOpen() {
		if err := w.sys.ns.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close netns: %w", err))
		}
	}
	if w.netnsPath != "" {
		if err := deleteNetns(w.netnsPath); err != nil {
			errs = append(errs, err)
		}
	}
	if w.dir != "" {
		if err := os.RemoveAll(w.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove files: %w", err))
		}
	}
	if w.cgroupRoot != "" {
		if err := removeCgroupParent(w.cgroupRoot); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
