// SPDX-License-Identifier: Apache-2.0

// Config: the VM entries, the pod source and selectors, and where the
// cgroup hierarchies are; its validation.

package workload

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// DefaultInterval is how often Run rescans when given no interval.
const DefaultInterval = 2 * time.Second

// Config says which workloads a Scanner looks for. NewScanner copies it;
// changing it afterwards has no effect.
type Config struct {
	// VMs are workloads named in the node's config, each by cgroup or by
	// systemd unit.
	VMs []VM
	// Pods lists this node's pods; nil means no Kubernetes workloads.
	Pods PodSource
	// Selectors choose among Pods: a pod is a workload when it matches at
	// least one. No selectors select no pod (an empty Selector selects
	// every pod). Selectors without Pods are a configuration error.
	Selectors []Selector
	// NodeName, when set, ignores pods whose Pod.NodeName is another node
	// (a source that lists more than this node's pods).
	NodeName string
	// CgroupRoot is the cgroup2 mount to read; "" means the first cgroup2
	// mount in /proc/mounts. Set it when the host's hierarchy is mounted
	// elsewhere (e.g. /host/sys/fs/cgroup in a container).
	CgroupRoot string
	// KubeletCgroupRoot is the kubelet's --cgroup-root, the directory that
	// holds kubepods (cgroupfs driver) or kubepods.slice (systemd driver),
	// relative to CgroupRoot; "" means CgroupRoot itself.
	KubeletCgroupRoot string
	// Logger receives per-workload errors (once per distinct error), pods
	// that are not ready yet (Debug) and Run's changes (Info). nil means
	// slog.Default().
	Logger *slog.Logger
}

// VM is a workload named in the node's config: exactly one of Cgroup and
// Unit is set.
type VM struct {
	// Name identifies the entry; it must be unique.
	Name string `json:"name" yaml:"name"`
	// Cgroup is the cgroup v2 directory: an absolute path inside the
	// cgroup2 mount, or a path relative to the mount. An absolute path
	// outside the mount ("/system.slice/agent.service", as systemctl and
	// /proc/PID/cgroup print it) is taken as relative to the mount.
	Cgroup string `json:"cgroup,omitempty" yaml:"cgroup,omitempty"`
	// Unit is a systemd unit ("agent.service"; "agent" means
	// "agent.service") whose cgroup is the workload's.
	Unit string `json:"unit,omitempty" yaml:"unit,omitempty"`
}

func (v VM) validate() error {
	if v.Name == "" {
		return errors.New("vm: empty name")
	}
	switch {
	case v.Cgroup == "" && v.Unit == "":
		return fmt.Errorf("vm %s: needs a cgroup or a unit", v.Name)
	case v.Cgroup != "" && v.Unit != "":
		return fmt.Errorf("vm %s: cgroup and unit are exclusive", v.Name)
	case v.Unit != "":
		if _, err := unitName(v.Unit); err != nil {
			return fmt.Errorf("vm %s: %w", v.Name, err)
		}
	}
	return nil
}

func (c Config) validate() error {
	names := make(map[string]bool, len(c.VMs))
	for _, v := range c.VMs {
		if err := v.validate(); err != nil {
			return err
		}
		if names[v.Name] {
			return fmt.Errorf("vm %s: duplicate name", v.Name)
		}
		names[v.Name] = true
	}
	if len(c.Selectors) > 0 && c.Pods == nil {
		return errors.New("pod selectors without a pod source")
	}
	for i, s := range c.Selectors {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("selector %d: %w", i, err)
		}
	}
	return nil
}

// inRoot resolves p against the cgroup2 mount root: an absolute path inside
// root stays as it is; any other path is taken relative to root. The result
// never leaves root.
func inRoot(root, p string) (string, error) {
	var dir string
	if filepath.IsAbs(p) && within(root, filepath.Clean(p)) {
		dir = filepath.Clean(p)
	} else {
		dir = filepath.Join(root, p)
	}
	if !within(root, dir) {
		return "", fmt.Errorf("cgroup %q: outside %s", p, root)
	}
	return dir, nil
}

// within reports whether path is dir or lies below it; both are clean.
func within(dir, path string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
