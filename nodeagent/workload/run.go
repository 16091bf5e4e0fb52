// SPDX-License-Identifier: Apache-2.0

// Run and Rescan: scanning on an interval and on demand, and reporting what
// changed.

package workload

import (
	"context"
	"errors"
	"time"
)

// Run scans now, then every interval (DefaultInterval if interval <= 0)
// and whenever Rescan is called, until ctx is done; it returns ctx's error.
// After each scan it calls onChange with the workloads that appeared and
// those that went away (by Key, each sorted by Key); after the first scan
// it always calls it, with every workload present as added, so the caller
// knows the first scan is done. onChange runs on Run's goroutine, one call
// at a time; the next scan waits for it. A workload whose Key changed (a
// new cgroup or network namespace for the same unit or pod) is both removed
// and added in one call.
//
// A workload whose lookup fails keeps its last known state, and while the
// pod source fails every pod does: an outage of the Kubernetes API does not
// stop interception. Only one Run may run at a time.
func (s *Scanner) Run(ctx context.Context, interval time.Duration, onChange func(added, removed []Workload)) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("workload: Run is already running")
	}
	defer s.running.Store(false)
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	cur := map[string]Workload{} // by ident: the state last reported
	for first := true; ; first = false {
		r := s.scan(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.podsErr != nil {
			s.report("pods", r.podsErr)
		} else if s.pods != nil {
			s.clearReport("pods")
		}
		for id, w := range cur {
			_, found := r.found[id]
			if !found && (r.failed[id] || (r.podsErr != nil && w.Kind == KindPod)) {
				r.found[id] = w
			}
		}
		added, removed := diff(cur, r.found)
		for _, w := range removed {
			s.log.Info("workload: removed", "workload", w.String(), "cgroup", w.CgroupPath)
		}
		for _, w := range added {
			s.log.Info("workload: added", "workload", w.String(), "cgroup", w.CgroupPath, "netns", w.NetnsPath)
		}
		if first || len(added) > 0 || len(removed) > 0 {
			onChange(added, removed)
		}
		cur = r.found
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-s.rescan:
		}
	}
}

// Rescan asks a running Run to scan now, without waiting for it. Calls
// while a rescan is pending are merged; without a Run the request waits for
// the next one.
func (s *Scanner) Rescan() {
	select {
	case s.rescan <- struct{}{}:
	default:
	}
}

// diff returns the workloads of next whose Key is not in cur and those of
// cur whose Key is not in next, each sorted by Key, with their own Labels.
func diff(cur, next map[string]Workload) (added, removed []Workload) {
	curKeys := make(map[string]bool, len(cur))
	for _, w := range cur {
		curKeys[w.Key()] = true
	}
	nextKeys := make(map[string]bool, len(next))
	for _, w := range next {
		nextKeys[w.Key()] = true
		if !curKeys[w.Key()] {
			added = append(added, w.clone())
		}
	}
	for _, w := range cur {
		if !nextKeys[w.Key()] {
			removed = append(removed, w.clone())
		}
	}
	sortByKey(added)
	sortByKey(removed)
	return added, removed
}
