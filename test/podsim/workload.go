// SPDX-License-Identifier: Apache-2.0

// The Workload type and its accessors.

package podsim

import (
	"net/netip"
	"sync"
)

// Workload is a simulated pod or VM-style workload made by New. Its methods
// are safe for concurrent use. The caller must Close it.
type Workload struct {
	// Set by New, read-only afterwards.
	name       string
	pod        bool       // own network namespace
	cgroupRoot string     // the cgroup2 mount
	cgroupPath string     // cgroupRoot/interlock-podsim/name
	cgroupID   uint64     // inode number of cgroupPath
	netnsPath  string     // /var/run/netns/il-name; "" without
	vethName   string     // host side; "" without
	podAddr    netip.Addr // invalid without veth
	hostAddr   netip.Addr // invalid without veth
	dir        string     // temp dir holding the hosts and resolv.conf files
	hostsFile  string
	resolvFile string
	tools      tools
	sys        sysState // OS-specific handles, released by Close

	mu     sync.RWMutex // guards closed; Start and Do hold it shared while they use sys
	closed bool

	closeOnce sync.Once
	closeErr  error // result of the first Close, returned by every Close
}

// tools are the absolute paths of the helper programs Start runs.
type tools struct {
	nsenter, sh, mount string
}

// Name returns the workload's unique name.
func (w *Workload) Name() string { return w.name }

// CgroupPath returns the absolute path of the workload's cgroup v2 directory.
func (w *Workload) CgroupPath() string { return w.cgroupPath }

// CgroupID returns the cgroup's id as BPF sees it (bpf_get_current_cgroup_id):
// the inode number of its directory.
func (w *Workload) CgroupID() uint64 { return w.cgroupID }

// NetnsPath returns the path of the pod's network namespace
// (/var/run/netns/il-...), or "" for a VM-style workload.
func (w *Workload) NetnsPath() string { return w.netnsPath }

// PodAddr returns the veth address inside the pod; invalid without Veth.
func (w *Workload) PodAddr() netip.Addr { return w.podAddr }

// HostAddr returns the veth address on the host side; invalid without Veth.
func (w *Workload) HostAddr() netip.Addr { return w.hostAddr }

// HostsFile returns the path of the file that commands started inside see
// as /etc/hosts. Edit it in place only; it is removed by Close.
func (w *Workload) HostsFile() string { return w.hostsFile }
