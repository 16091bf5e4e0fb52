// SPDX-License-Identifier: Apache-2.0

// Looking up one VM entry: its cgroup, by path or by systemd unit.

package workload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// vm looks up one VM entry; ok is false when its cgroup does not exist
// (yet) or its unit does not run.
func (s *Scanner) vm(ctx context.Context, v VM) (Workload, bool, error) {
	w := Workload{Kind: KindVM, Name: v.Name}
	var dir string
	var err error
	if v.Unit != "" {
		w.Unit, _ = unitName(v.Unit) // validated by NewScanner
		dir, err = s.unitDir(ctx, w.Unit)
		if err != nil || dir == "" {
			return w, false, err
		}
	} else if dir, err = inRoot(s.root, v.Cgroup); err != nil {
		return w, false, err
	}
	return s.withCgroup(w, dir)
}

// unitDir returns the absolute path of unit's cgroup, "" when it does not
// run. systemd knows; without it (or if systemctl fails) the tree is searched.
func (s *Scanner) unitDir(ctx context.Context, unit string) (string, error) {
	if s.systemctl != "" {
		rel, err := systemdUnitCgroup(ctx, s.systemctl, unit)
		if err == nil {
			if rel == "" {
				return "", nil
			}
			return inRoot(s.root, rel)
		}
		s.log.Debug("workload: systemctl failed; searching the cgroup tree", "unit", unit, "err", err)
	}
	return findUnitDir(ctx, s.root, unit, maxUnitDepth)
}

// withCgroup fills in w's cgroup; ok is false when dir does not exist.
func (s *Scanner) withCgroup(w Workload, dir string) (Workload, bool, error) {
	if s.own != "" && within(dir, s.own) {
		return w, false, fmt.Errorf("cgroup %s holds the node agent itself; not intercepting it", dir)
	}
	id, err := cgroupID(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return w, false, nil
	}
	if err != nil {
		return w, false, err
	}
	w.CgroupPath, w.CgroupID = dir, id
	return w, true, nil
}
