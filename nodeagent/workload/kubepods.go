// SPDX-License-Identifier: Apache-2.0

// The kubepods hierarchy: which cgroup driver laid it out, and where a pod's
// cgroup is for each driver and QoS class.

package workload

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// driver is a kubelet cgroup driver's naming scheme.
type driver string

const (
	driverCgroupfs driver = "cgroupfs" // kubepods/burstable/pod<uid>
	driverSystemd  driver = "systemd"  // kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice
)

// root is the top directory of the driver's hierarchy, below the parent
// directory the kubelet was given (its --cgroup-root, "/" by default).
func (d driver) root() string {
	if d == driverSystemd {
		return "kubepods.slice"
	}
	return "kubepods"
}

// podDir returns the path of the pod's cgroup relative to the parent of
// d.root(), for one QoS class.
func (d driver) podDir(uid string, qos QOSClass) string {
	if d == driverSystemd {
		u := strings.ReplaceAll(uid, "-", "_") // systemd unit names escape '-'
		switch qos {
		case QOSBurstable:
			return "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u + ".slice"
		case QOSBestEffort:
			return "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + u + ".slice"
		default:
			return "kubepods.slice/kubepods-pod" + u + ".slice"
		}
	}
	switch qos {
	case QOSBurstable:
		return "kubepods/burstable/pod" + uid
	case QOSBestEffort:
		return "kubepods/besteffort/pod" + uid
	default:
		return "kubepods/pod" + uid
	}
}

// drivers lists both schemes, systemd first (the default of current
// kubelets and container runtimes).
var drivers = [...]driver{driverSystemd, driverCgroupfs}

// qosOrder returns the QoS classes to try for a pod: its own first, then
// the others (a pod's class cannot change, but a source may not know it).
func qosOrder(qos QOSClass) []QOSClass {
	all := []QOSClass{QOSBurstable, QOSBestEffort, QOSGuaranteed}
	switch qos {
	case QOSGuaranteed:
		return []QOSClass{QOSGuaranteed, QOSBurstable, QOSBestEffort}
	case QOSBestEffort:
		return []QOSClass{QOSBestEffort, QOSBurstable, QOSGuaranteed}
	default:
		return all
	}
}

// detectDrivers returns the drivers whose hierarchy exists below parent
// (usually one; both while a node migrates between drivers).
func detectDrivers(parent string) ([]driver, error) {
	var found []driver
	for _, d := range drivers {
		fi, err := os.Stat(filepath.Join(parent, d.root()))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("kubepods: %w", err)
		case fi.IsDir():
			found = append(found, d)
		}
	}
	return found, nil
}

// validUID reports whether uid can name a cgroup safely: a Kubernetes UID
// (a UUID, or a config hash for static pods), never a path.
func validUID(uid string) bool {
	if uid == "" || len(uid) > 128 {
		return false
	}
	for _, r := range uid {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// findPodCgroup returns the absolute path of the pod's cgroup below parent,
// trying each detected driver and QoS class; "" when it does not exist (yet).
func findPodCgroup(parent string, ds []driver, p Pod) (string, error) {
	if !validUID(p.UID) {
		return "", fmt.Errorf("bad pod uid %q", p.UID)
	}
	for _, d := range ds {
		for _, qos := range qosOrder(p.QOSClass) {
			dir := filepath.Join(parent, d.podDir(p.UID, qos))
			fi, err := os.Stat(dir)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return "", err
			case fi.IsDir():
				return dir, nil
			}
		}
	}
	return "", nil
}
