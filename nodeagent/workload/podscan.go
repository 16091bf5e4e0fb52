// SPDX-License-Identifier: Apache-2.0

// Looking up one pod: selection, its cgroup under kubepods and its network
// namespace.

package workload

import (
	"fmt"
	"maps"
	"slices"
)

// selected reports whether p is on this node and matches a selector.
func (s *Scanner) selected(p Pod) bool {
	if s.nodeName != "" && p.NodeName != "" && p.NodeName != s.nodeName {
		return false
	}
	return slices.ContainsFunc(s.selectors, func(sel Selector) bool { return sel.Matches(p) })
}

// pod looks up one selected pod; ok is false while it has no cgroup or no
// container with a process ("not ready": tried again next scan).
func (s *Scanner) pod(ds []driver, p Pod) (Workload, bool, error) {
	w := Workload{
		Kind:           KindPod,
		Name:           p.Name,
		Namespace:      p.Namespace,
		PodUID:         p.UID,
		ServiceAccount: p.ServiceAccount,
		Labels:         maps.Clone(p.Labels),
	}
	dir, err := findPodCgroup(s.kubeParent, ds, p)
	if err != nil || dir == "" {
		if err == nil {
			s.log.Debug("workload: pod not ready: no cgroup", "pod", w.String(), "uid", p.UID)
		}
		return w, false, err
	}
	w, ok, err := s.withCgroup(w, dir)
	if !ok || err != nil {
		return w, ok, err
	}
	path, ino, err := podNetns(dir)
	if err != nil {
		return w, false, fmt.Errorf("netns: %w", err)
	}
	if path == "" {
		s.log.Debug("workload: pod not ready: no running container", "pod", w.String(), "cgroup", dir)
		return w, false, nil
	}
	if ino != s.hostNetns { // else a hostNetwork pod
		w.NetnsPath, w.NetnsInode = path, ino
	}
	return w, true, nil
}
