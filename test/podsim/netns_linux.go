// SPDX-License-Identifier: Apache-2.0

// Named network namespaces (as `ip netns add` makes them) and running code
// on an OS thread inside one.

package podsim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netnsDir is where iproute2 keeps named network namespaces.
const netnsDir = "/var/run/netns"

// claimNetns creates the empty mount-point file of a named namespace.
// fs.ErrExist means the name is taken.
func claimNetns(name string) (string, error) {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return "", fmt.Errorf("make %s: %w", netnsDir, err)
	}
	path := filepath.Join(netnsDir, name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return "", fmt.Errorf("claim netns: %w", err)
	}
	return path, f.Close()
}

// createNetns makes a new network namespace, bind-mounts it on path (made by
// claimNetns) and returns a handle to it. The work happens on a thread of a
// goroutine of its own: if that thread cannot be switched back to its old
// namespace, the goroutine exits still locked and the runtime discards it.
func createNetns(path string) (netns.NsHandle, error) {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get netns: %w", err)
			return
		}
		defer orig.Close()
		err = unix.Unshare(unix.CLONE_NEWNET)
		if err != nil {
			err = fmt.Errorf("unshare netns: %w", err)
		} else if err = unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			err = fmt.Errorf("bind netns: %w", err)
		}
		if rerr := netns.Set(orig); rerr != nil {
			errc <- errors.Join(err, fmt.Errorf("restore netns: %w", rerr))
			return // thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	if err := <-errc; err != nil {
		return netns.None(), err
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("open netns: %w", err)
	}
	return ns, nil
}

// deleteNetns unmounts and removes a named namespace; a missing one is fine.
func deleteNetns(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount netns: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove netns: %w", err)
	}
	return nil
}

// onThread runs fn on the calling goroutine locked to its OS thread. When
// enter is not nil it must move the thread into another network namespace
// (it runs after the lock); the thread is moved back after fn. If that
// fails the thread stays locked, so the runtime discards it when the
// goroutine exits, and the error says so.
func onThread(enter func() error, fn func() error) (err error) {
	runtime.LockOSThread()
	if enter == nil {
		defer runtime.UnlockOSThread()
		return fn()
	}
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("get netns: %w", err)
	}
	defer orig.Close()
	if err := enter(); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer func() {
		if rerr := netns.Set(orig); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restore netns (thread left locked): %w", rerr))
			return
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}
