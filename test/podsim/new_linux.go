// SPDX-License-Identifier: Apache-2.0

// New: making a workload, in the order Close undoes it.

package podsim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// sysState holds the kernel handles of a workload on Linux.
type sysState struct {
	cgroupFD int            // open cgroup directory, for CLONE_INTO_CGROUP; -1 when closed
	ns       netns.NsHandle // the pod's network namespace; netns.None() without
}

// New makes a workload as opts say (see the package doc). It needs root; a
// missing requirement is reported as errors.ErrUnsupported. If it fails
// halfway it removes what it made. The caller must Close the workload.
func New(ctx context.Context, opts Options) (*Workload, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("podsim: %w", err)
	}
	w := &Workload{
		pod: !opts.HostNetwork,
		sys: sysState{cgroupFD: -1, ns: netns.None()},
	}
	if err := w.setup(ctx, opts); err != nil {
		return nil, errors.Join(fmt.Errorf("podsim: %w", err), w.teardown())
	}
	return w, nil
}

func (w *Workload) setup(ctx context.Context, opts Options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root: %w", errors.ErrUnsupported)
	}
	var err error
	if w.tools, err = findTools(); err != nil {
		return err
	}
	if w.cgroupRoot, err = cgroups.Mount(); err != nil {
		return err
	}
	if _, err := os.Stat("/etc/hosts"); err != nil {
		return fmt.Errorf("no /etc/hosts to mount over: %w", errors.ErrUnsupported)
	}
	if err := w.writeFiles(opts.Hosts); err != nil {
		return err
	}
	if err := w.claimName(opts.Name); err != nil {
		return err
	}
	if w.cgroupID, err = cgroups.ID(w.cgroupPath); err != nil {
		return err
	}
	fd, err := unix.Open(w.cgroupPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup: %w", err)
	}
	w.sys.cgroupFD = fd
	if !w.pod {
		return ctx.Err()
	}
	if w.sys.ns, err = createNetns(w.netnsPath); err != nil {
		return err
	}
	h, err := netlink.NewHandleAt(w.sys.ns)
	if err != nil {
		return fmt.Errorf("netlink in netns: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	if opts.Veth {
		if err := w.addVeth(ctx, w.sys.ns, h); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// findTools looks up the helper programs Start runs.
func findTools() (tools, error) {
	var t tools
	for _, p := range []struct {
		name string
		dst  *string
	}{{"nsenter", &t.nsenter}, {"mount", &t.mount}, {"sh", &t.sh}} {
		path, err := exec.LookPath(p.name)
		if err != nil {
			return t, fmt.Errorf("find %s (util-linux, sh): %w: %w", p.name, errors.ErrUnsupported, err)
		}
		if *p.dst, err = filepath.Abs(path); err != nil {
			return t, fmt.Errorf("find %s: %w", p.name, err)
		}
	}
	return t, nil
}

// writeFiles writes the hosts and resolv.conf files into a new temp dir.
func (w *Workload) writeFiles(hosts map[string]string) error {
	dir, err := os.MkdirTemp("", "podsim-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	w.dir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	w.hostsFile = filepath.Join(dir, "hosts")
	if err := os.WriteFile(w.hostsFile, hostsFile(hosts), 0o644); err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	// Without a resolv.conf glibc and Go ask loopback anyway: nothing to hide.
	if _, err := os.Stat("/etc/resolv.conf"); err == nil {
		w.resolvFile = filepath.Join(dir, "resolv.conf")
		if err := os.WriteFile(w.resolvFile, []byte(resolvConf), 0o644); err != nil {
			return fmt.Errorf("write resolv.conf: %w", err)
		}
	}
	return nil
}

// claimName picks a unique name: one whose cgroup (and, for a pod, named
// netns) did not exist yet, and claims both.
func (w *Workload) claimName(label string) error {
	for range 20 {
		name := uniqueName(label)
		dir, err := makeCgroup(w.cgroupRoot, name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if w.pod {
			path, err := claimNetns(netnsName(name))
			if errors.Is(err, fs.ErrExist) {
				if err := unix.Rmdir(dir); err != nil {
					return fmt.Errorf("remove cgroup: %w", err)
				}
				continue
			}
			if err != nil {
				w.cgroupPath = dir
				return err
			}
			w.netnsPath = path
		}
		w.name, w.cgroupPath = name, dir
		return nil
	}
	return fmt.Errorf("no unique name for %q", label)
}
