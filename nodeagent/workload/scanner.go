// SPDX-License-Identifier: Apache-2.0

// Scanner and Scan: one pass over the configured VMs and the selected pods.

package workload

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// podListTimeout bounds one PodSource.Pods call, so that a hanging source
// does not stop the VM workloads from being rescanned.
const podListTimeout = 30 * time.Second

// Scanner finds the workloads a Config names. Its methods are safe for
// concurrent use, but only one Run may run at a time.
type Scanner struct {
	// Set by NewScanner, read-only afterwards.
	vms        []VM
	pods       PodSource
	selectors  []Selector
	nodeName   string
	root       string // the cgroup2 mount
	kubeParent string // absolute: holds kubepods or kubepods.slice
	systemctl  string // path of systemctl when systemd runs, else ""
	hostNetns  uint64 // inode of this process's own network namespace
	own        string // absolute path of this process's cgroup; "" if unknown
	log        *slog.Logger

	rescan  chan struct{} // capacity 1: a pending Rescan
	running atomic.Bool   // a Run is in progress

	mu      sync.Mutex        // guards lastErr
	lastErr map[string]string // ident → last reported error, to log each once
}

// NewScanner checks cfg and returns a scanner for it. It fails with an
// error wrapping errors.ErrUnsupported when there is no cgroup2 mount (or
// not Linux).
func NewScanner(cfg Config) (*Scanner, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("workload: config: %w", err)
	}
	s := &Scanner{
		vms:       slices.Clone(cfg.VMs),
		pods:      cfg.Pods,
		nodeName:  cfg.NodeName,
		root:      cfg.CgroupRoot,
		log:       cfg.Logger,
		rescan:    make(chan struct{}, 1),
		lastErr:   make(map[string]string),
		selectors: make([]Selector, len(cfg.Selectors)),
	}
	for i, sel := range cfg.Selectors {
		sel.MatchLabels = maps.Clone(sel.MatchLabels)
		sel.MatchExpressions = slices.Clone(sel.MatchExpressions)
		for j := range sel.MatchExpressions {
			sel.MatchExpressions[j].Values = slices.Clone(sel.MatchExpressions[j].Values)
		}
		s.selectors[i] = sel
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	if s.root == "" {
		if s.root, err = cgroupMount(); err != nil {
			return nil, fmt.Errorf("workload: %w", err)
		}
	}
	if _, err := cgroupID(s.root); err != nil {
		return nil, fmt.Errorf("workload: cgroup root: %w", err)
	}
	if s.kubeParent, err = inRoot(s.root, cfg.KubeletCgroupRoot); err != nil {
		return nil, fmt.Errorf("workload: kubelet cgroup root: %w", err)
	}
	if s.hostNetns, err = hostNetnsInode(); err != nil {
		return nil, fmt.Errorf("workload: own netns: %w", err)
	}
	if rel, err := ownCgroup(); err != nil {
		s.log.Warn("workload: own cgroup unknown; cannot refuse to intercept the node agent itself", "err", err)
	} else if s.own, err = inRoot(s.root, rel); err != nil {
		s.log.Warn("workload: own cgroup unknown; cannot refuse to intercept the node agent itself", "err", err)
	}
	if systemdRunning() {
		if s.systemctl, err = exec.LookPath("systemctl"); err != nil {
			s.log.Warn("workload: systemd runs but systemctl is missing; units are searched in the cgroup tree", "err", err)
		}
	}
	return s, nil
}

// result is what one pass found.
type result struct {
	found   map[string]Workload // by ident
	failed  map[string]bool     // idents whose lookup failed this time
	podsErr error               // the pod list failed: no pod is known
}

// Scan looks for every configured workload once and returns those present,
// sorted by Key. A workload that is not there (a cgroup not made yet, a
// unit not running, a pod without a running container) is left out; one
// whose lookup fails is left out and logged, without stopping the others.
// The error is not nil only when the pod source failed; the VM workloads
// are returned anyway. (Run, unlike Scan, keeps the last known state of
// workloads it could not look up.)
func (s *Scanner) Scan(ctx context.Context) ([]Workload, error) {
	r := s.scan(ctx)
	ws := slices.Collect(maps.Values(r.found))
	sortByKey(ws)
	if r.podsErr != nil {
		return ws, fmt.Errorf("workload: %w", r.podsErr)
	}
	return ws, nil
}

func sortByKey(ws []Workload) {
	slices.SortFunc(ws, func(a, b Workload) int { return cmp.Compare(a.Key(), b.Key()) })
}

func (s *Scanner) scan(ctx context.Context) result {
	r := result{found: make(map[string]Workload), failed: make(map[string]bool)}
	byCgroup := make(map[uint64]string) // cgroup id → ident that claimed it
	add := func(id string, w Workload, ok bool, err error) {
		switch {
		case err != nil:
			r.failed[id] = true
			s.report(id, err)
		case !ok:
			s.clearReport(id)
		case byCgroup[w.CgroupID] != "":
			r.failed[id] = true
			s.report(id, fmt.Errorf("cgroup %s is already %s", w.CgroupPath, byCgroup[w.CgroupID]))
		default:
			s.clearReport(id)
			byCgroup[w.CgroupID] = id
			r.found[id] = w
		}
	}
	for _, v := range s.vms {
		w, ok, err := s.vm(ctx, v)
		add("vm/"+v.Name, w, ok, err)
	}
	if s.pods == nil {
		return r
	}
	lctx, cancel := context.WithTimeout(ctx, podListTimeout)
	pods, err := s.pods.Pods(lctx)
	cancel()
	if err != nil {
		r.podsErr = fmt.Errorf("list pods: %w", err)
		return r
	}
	ds, err := detectDrivers(s.kubeParent)
	if err != nil {
		r.podsErr = err
		return r
	}
	for _, p := range pods {
		if !s.selected(p) {
			continue
		}
		id := "pod/" + p.Namespace + "/" + p.Name + "/" + p.UID
		if _, dup := r.found[id]; dup || r.failed[id] {
			continue
		}
		w, ok, err := s.pod(ds, p)
		add(id, w, ok, err)
	}
	return r
}

// report logs err for the workload ident, unless it is the error reported
// last time.
func (s *Scanner) report(ident string, err error) {
	msg := err.Error()
	s.mu.Lock()
	same := s.lastErr[ident] == msg
	s.lastErr[ident] = msg
	s.mu.Unlock()
	if !same {
		s.log.Warn("workload: lookup failed", "workload", ident, "err", err)
	}
}

// clearReport forgets the last error of ident, which was found or absent.
func (s *Scanner) clearReport(ident string) {
	s.mu.Lock()
	delete(s.lastErr, ident)
	s.mu.Unlock()
}
