// SPDX-License-Identifier: Apache-2.0

// objects_linux.go holds Objects and its lifecycle: Load (fresh, or taking
// over the pins of a previous agent), Close and Unpin.

package bpf

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// linksDir is the sub-directory of the pin dir holding one directory of
// pinned links per attached cgroup id.
const linksDir = "links"

// Objects are the loaded programs and pinned maps, and the links this
// process holds. Its methods are safe for concurrent use. The caller must
// Close it; Close keeps the pins, so interception stays in force.
type Objects struct {
	cfg  Config
	log  *slog.Logger
	objs interlockObjects // closed by Close

	mu     sync.Mutex
	links  map[uint64]*cgroupLinks // by cgroup id; guarded by mu
	closed bool                    // guarded by mu
}

// Load loads the programs and creates, or takes over, the maps and links
// pinned under cfg.PinDir. A second Load on the same pin dir (a restarted or
// upgraded agent) reuses the maps, with every record and workload in them,
// and atomically swaps its own programs into the pinned links: interception
// never stops. The interception set in the maps is replaced by cfg's.
func Load(cfg Config) (*Objects, error) {
	o, err := load(cfg)
	if err != nil {
		return nil, fmt.Errorf("bpf: %w", err)
	}
	return o, nil
}

func load(cfg Config) (_ *Objects, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rules, err := cfg.rules()
	if err != nil {
		return nil, err
	}
	if err := ensurePinDir(cfg.PinDir, cfg.Logger); err != nil {
		return nil, err
	}
	spec, err := loadInterlock()
	if err != nil {
		return nil, err
	}
	for name, m := range spec.Maps {
		m.Pinning = ebpf.PinByName
		if name == interlockMapSockOrig || name == interlockMapConnOrig {
			m.MaxEntries = cfg.MaxConnections
		}
	}
	o := &Objects{cfg: cfg, log: cfg.Logger, links: make(map[uint64]*cgroupLinks)}
	opts := &ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: cfg.PinDir}}
	if err := spec.LoadAndAssign(&o.objs, opts); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load programs: %+v", ve)
		}
		return nil, fmt.Errorf("load: %w", err)
	}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	if err := o.syncPorts(cfg.Ports); err != nil {
		return nil, err
	}
	if err := o.syncDsts(rules); err != nil {
		return nil, err
	}
	if err := o.takeOver(); err != nil {
		return nil, err
	}
	return o, nil
}

// syncPorts makes intercept_ports hold exactly ports: new entries first,
// then stale ones removed, so no wanted port is ever missing.
func (o *Objects) syncPorts(ports []uint16) error {
	m := o.objs.InterceptPorts
	want := make(map[uint16]bool, len(ports))
	for _, p := range ports {
		want[p] = true
		if err := m.Update(p, uint8(1), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("set port %d: %w", p, err)
		}
	}
	var stale []uint16
	var k uint16
	it := m.Iterate()
	var v uint8
	for it.Next(&k, &v) {
		if !want[k] {
			stale = append(stale, k)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("list ports: %w", err)
	}
	for _, p := range stale {
		if err := m.Delete(p); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("remove port %d: %w", p, err)
		}
	}
	return nil
}

// syncDsts makes intercept_dsts hold exactly rules, in the same order as
// syncPorts.
func (o *Objects) syncDsts(rules []dstRule) error {
	m := o.objs.InterceptDsts
	want := make(map[interlockDstKey]bool, len(rules))
	for _, r := range rules {
		k := interlockDstKey{Prefixlen: uint32(r.prefix.Bits()), Addr: r.prefix.Addr().As16()}
		want[k] = true
		if err := m.Update(k, r.action, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("set prefix %s: %w", r.prefix, err)
		}
	}
	var stale []interlockDstKey
	var k interlockDstKey
	var v uint8
	it := m.Iterate()
	for it.Next(&k, &v) {
		if !want[k] {
			stale = append(stale, k)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("list prefixes: %w", err)
	}
	for _, k := range stale {
		if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("remove prefix: %w", err)
		}
	}
	return nil
}

// takeOver loads the links pinned by a previous Objects and swaps this
// Objects' programs into them. A link whose cgroup was removed meanwhile is
// defunct (ENOLINK): its pins and workload entry are removed.
func (o *Objects) takeOver() error {
	root := filepath.Join(o.cfg.PinDir, linksDir)
	dirs, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("list pinned links: %w", err)
	}
	taken := 0
	for _, d := range dirs {
		id, err := strconv.ParseUint(d.Name(), 10, 64)
		if err != nil || !d.IsDir() {
			o.log.Warn("bpf: ignoring unexpected entry in pin dir", "path", filepath.Join(root, d.Name()))
			continue
		}
		cl, err := o.loadPinnedLinks(id)
		if errors.Is(err, unix.ENOLINK) {
			o.log.Info("bpf: removing links of a deleted cgroup", "cgroup_id", id)
			if err := o.detachID(id); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("take over cgroup %d: %w", id, err)
		}
		o.links[id] = cl
		taken++
	}
	if taken > 0 {
		o.log.Info("bpf: took over pinned links", "cgroups", taken, "pin_dir", o.cfg.PinDir)
	}
	return nil
}

// Close releases this process's file descriptors. Pins stay, so attached
// programs keep intercepting (and failing closed while no proxy listens);
// call Unpin first to detach everything on Close. A second Close returns
// ErrClosed.
func (o *Objects) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	o.closed = true
	var errs []error
	for _, cl := range o.links {
		errs = append(errs, cl.close())
	}
	o.links = nil
	errs = append(errs, o.objs.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bpf: close: %w", err)
	}
	return nil
}

// Unpin removes every pin of this Objects (maps and links) and the pin
// directory. The links stay attached while this Objects holds them: Close
// (or Detach) then detaches them, and the maps go away with the last user.
// This is the detach-on-exit path.
func (o *Objects) Unpin() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	var errs []error
	for _, cl := range o.links {
		errs = append(errs, cl.unpin())
	}
	for _, m := range []*ebpf.Map{
		o.objs.ConnOrig, o.objs.Counters, o.objs.InterceptDsts,
		o.objs.InterceptPorts, o.objs.SockOrig, o.objs.Workloads,
	} {
		errs = append(errs, m.Unpin())
	}
	errs = append(errs, os.RemoveAll(filepath.Join(o.cfg.PinDir, linksDir)))
	if err := os.Remove(o.cfg.PinDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bpf: unpin: %w", err)
	}
	return nil
}

// PinDir returns the directory the objects are pinned in.
func (o *Objects) PinDir() string { return o.cfg.PinDir }
