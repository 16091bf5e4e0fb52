// SPDX-License-Identifier: Apache-2.0

// The Workload type: one intercepted cgroup, what it is and where its
// network namespace is, and the Key that tells scans apart.

package workload

import (
	"fmt"
	"maps"
)

// Kind says where a workload comes from.
type Kind string

// The kinds of workload.
const (
	// KindVM is a cgroup or systemd unit named in the node's config.
	KindVM Kind = "vm"
	// KindPod is a Kubernetes pod selected by namespace and labels.
	KindPod Kind = "pod"
)

// Workload is one intercepted cgroup as a scan found it. It is a value:
// nothing in it changes after the scan returned it, and Labels is the
// scanner's own copy.
type Workload struct {
	Kind Kind
	// Name is the VM entry's name from the config, or the pod's name.
	Name string
	// Namespace, PodUID, ServiceAccount and Labels are the pod's; empty
	// for a VM workload.
	Namespace      string
	PodUID         string
	ServiceAccount string
	Labels         map[string]string
	// Unit is the systemd unit a VM entry names; "" otherwise.
	Unit string
	// CgroupPath is the absolute path of the cgroup v2 directory to attach
	// to: a VM entry's cgroup or unit, or the pod's cgroup (its containers'
	// cgroups are below it).
	CgroupPath string
	// CgroupID is CgroupPath's id as BPF sees it (its inode number).
	CgroupID uint64
	// NetnsPath is /proc/PID/ns/net of a process of one of the pod's
	// containers, or "" when the workload is on the host network (VM
	// workloads, hostNetwork pods). It names a process, not the namespace:
	// open it promptly and check NetnsInode (Workload.Listen does), since
	// the process can exit and its PID be reused.
	NetnsPath string
	// NetnsInode is the inode number of the pod's network namespace (what
	// stat of NetnsPath returned during the scan); 0 when NetnsPath is "".
	NetnsInode uint64
}

// Key identifies the workload across scans: its kind and name (pod UID for
// pods), its cgroup id and its network namespace. It changes when the
// cgroup or the namespace is made anew (a restarted unit, a recreated pod
// sandbox), so that a consumer re-attaches and reopens its listener; it does
// not change when only labels do.
func (w Workload) Key() string {
	switch w.Kind {
	case KindPod:
		return fmt.Sprintf("pod/%s/%s/%s@cg%d/ns%d", w.Namespace, w.Name, w.PodUID, w.CgroupID, w.NetnsInode)
	default:
		return fmt.Sprintf("%s/%s@cg%d", w.Kind, w.Name, w.CgroupID)
	}
}

// String returns a short description for logs.
func (w Workload) String() string {
	if w.Kind == KindPod {
		return fmt.Sprintf("pod %s/%s", w.Namespace, w.Name)
	}
	return fmt.Sprintf("vm %s", w.Name)
}

// clone returns w with its own copy of Labels.
func (w Workload) clone() Workload {
	w.Labels = maps.Clone(w.Labels)
	return w
}
