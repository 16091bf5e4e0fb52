// SPDX-License-Identifier: Apache-2.0

// attach_linux.go attaches the five programs to a workload's cgroup with
// pinned bpf_links, and detaches them.

package bpf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/interlockhq/interlock/internal/cgroups"
)

// attachment is one program and how it attaches to a cgroup.
type attachment struct {
	name   string // pin file name
	attach ebpf.AttachType
	prog   func(*interlockPrograms) *ebpf.Program
}

// attachments lists every program Attach links to a cgroup.
var attachments = [...]attachment{
	{"connect4", ebpf.AttachCGroupInet4Connect, func(p *interlockPrograms) *ebpf.Program { return p.InterlockConnect4 }},
	{"connect6", ebpf.AttachCGroupInet6Connect, func(p *interlockPrograms) *ebpf.Program { return p.InterlockConnect6 }},
	{"sockops", ebpf.AttachCGroupSockOps, func(p *interlockPrograms) *ebpf.Program { return p.InterlockSockops }},
	{"getpeername4", ebpf.AttachCgroupInet4GetPeername, func(p *interlockPrograms) *ebpf.Program { return p.InterlockGetpeername4 }},
	{"getpeername6", ebpf.AttachCgroupInet6GetPeername, func(p *interlockPrograms) *ebpf.Program { return p.InterlockGetpeername6 }},
}

// cgroupLinks are the links of one cgroup, in the order of attachments; nil
// entries were never made.
type cgroupLinks [len(attachments)]link.Link

func (cl *cgroupLinks) close() error {
	var errs []error
	for _, l := range cl {
		if l != nil {
			errs = append(errs, l.Close())
		}
	}
	return errors.Join(errs...)
}

func (cl *cgroupLinks) unpin() error {
	var errs []error
	for _, l := range cl {
		if l != nil {
			errs = append(errs, l.Unpin())
		}
	}
	return errors.Join(errs...)
}

func (o *Objects) linkDir(cgroupID uint64) string {
	return filepath.Join(o.cfg.PinDir, linksDir, strconv.FormatUint(cgroupID, 10))
}

// loadPinnedLinks loads the links pinned for cgroupID and swaps this
// Objects' programs into them.
func (o *Objects) loadPinnedLinks(cgroupID uint64) (*cgroupLinks, error) {
	var cl cgroupLinks
	dir := o.linkDir(cgroupID)
	for i, a := range attachments {
		l, err := link.LoadPinnedLink(filepath.Join(dir, a.name), nil)
		if errors.Is(err, os.ErrNotExist) {
			continue // Attach will create it
		}
		if err != nil {
			cl.close()
			return nil, fmt.Errorf("load pinned %s: %w", a.name, err)
		}
		cl[i] = l
		if err := l.Update(a.prog(&o.objs.interlockPrograms)); err != nil {
			cl.close()
			return nil, fmt.Errorf("update %s: %w", a.name, err)
		}
	}
	return &cl, nil
}

// Attach intercepts the cgroup v2 directory at cgroupPath and its
// descendants as workload w: it stores w, then links every program to the
// cgroup and pins the links under the pin dir. Attach is idempotent: on an
// attached cgroup it only replaces w, and it completes a partial attach
// left by a crash. Processes already in the cgroup are intercepted from
// their next connect(). On error the links made by this call are removed;
// the workload entry stays (inert without links) until Detach.
func (o *Objects) Attach(cgroupPath string, w Workload) error {
	if err := o.attach(cgroupPath, w); err != nil {
		return fmt.Errorf("bpf: attach %s: %w", cgroupPath, err)
	}
	return nil
}

func (o *Objects) attach(cgroupPath string, w Workload) error {
	id, err := cgroups.ID(cgroupPath)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	// The workload entry goes first: a connect that meets the programs
	// without it is refused.
	v := w.value()
	if err := o.objs.Workloads.Update(id, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("store workload: %w", err)
	}
	cl := o.links[id]
	if cl == nil {
		cl, err = o.loadPinnedLinks(id)
		if err != nil {
			return err
		}
	}
	dir := o.linkDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create link dir: %w", err)
	}
	var made cgroupLinks // links made by this call, undone on failure
	for i, a := range attachments {
		if cl[i] != nil {
			continue
		}
		l, err := link.AttachCgroup(link.CgroupOptions{
			Path:    cgroupPath,
			Attach:  a.attach,
			Program: a.prog(&o.objs.interlockPrograms),
		})
		if err == nil {
			if err = l.Pin(filepath.Join(dir, a.name)); err != nil {
				l.Close()
			}
		}
		if err != nil {
			made.unpin()
			made.close()
			os.Remove(dir) // only succeeds if nothing else is pinned there
			return fmt.Errorf("link %s: %w", a.name, err)
		}
		made[i] = l
	}
	for i, l := range made {
		if l != nil {
			cl[i] = l
		}
	}
	o.links[id] = cl
	return nil
}

// Detach removes the programs from the cgroup at cgroupPath, removes their
// pins and forgets the workload. Detaching a cgroup that is not attached is
// not an error.
func (o *Objects) Detach(cgroupPath string) error {
	id, err := cgroups.ID(cgroupPath)
	if err != nil {
		return fmt.Errorf("bpf: detach %s: %w", cgroupPath, err)
	}
	return o.DetachID(id)
}

// DetachID is Detach by cgroup id, for cgroups that no longer exist.
func (o *Objects) DetachID(cgroupID uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	if err := o.detachID(cgroupID); err != nil {
		return fmt.Errorf("bpf: detach cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// detachID detaches cgroupID; the caller holds o.mu (or is Load).
func (o *Objects) detachID(cgroupID uint64) error {
	var errs []error
	cl := o.links[cgroupID]
	delete(o.links, cgroupID)
	dir := o.linkDir(cgroupID)
	if cl == nil {
		// Not held by this process: open the pins to detach them.
		cl = new(cgroupLinks)
		for i, a := range attachments {
			l, err := link.LoadPinnedLink(filepath.Join(dir, a.name), nil)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("load pinned %s: %w", a.name, err))
				continue
			}
			cl[i] = l
		}
	}
	for _, l := range cl {
		if l == nil {
			continue
		}
		if err := l.Unpin(); err != nil {
			errs = append(errs, err)
		}
		// A cgroup link is detached when its last reference goes; Detach
		// makes that immediate even if another process still holds it.
		if err := l.Detach(); err != nil && !errors.Is(err, ebpf.ErrNotSupported) {
			errs = append(errs, err)
		}
		errs = append(errs, l.Close())
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	// The workload goes last: until the links are gone, connects need it.
	if err := o.objs.Workloads.Delete(cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		errs = append(errs, fmt.Errorf("forget workload: %w", err))
	}
	return errors.Join(errs...)
}
