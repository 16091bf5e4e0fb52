// SPDX-License-Identifier: Apache-2.0

// Options of a workload, their validation and the unique naming rule.

package podsim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// Options say what kind of workload New makes.
type Options struct {
	// Name is a short label, [a-z0-9-], at most maxNameLen characters.
	// "" means "il". A random suffix always makes it unique: "agent"
	// becomes "agent-3f9a1c", "" becomes "il-3f9a1c".
	Name string
	// HostNetwork makes a VM-style workload: no network namespace of its
	// own, only a cgroup and a hosts file.
	HostNetwork bool
	// Veth gives a pod a veth pair to the host with addresses from
	// 192.0.2.0/24. Not allowed with HostNetwork.
	Veth bool
	// Hosts maps a host name to an IP address; it becomes the workload's
	// /etc/hosts, with "127.0.0.1 localhost" and "::1 localhost".
	Hosts map[string]string
}

// maxNameLen bounds Options.Name so that the unique name stays short.
const maxNameLen = 32

func (o Options) validate() error {
	if len(o.Name) > maxNameLen {
		return fmt.Errorf("name %q: longer than %d", o.Name, maxNameLen)
	}
	for _, r := range o.Name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return fmt.Errorf("name %q: only [a-z0-9-] allowed", o.Name)
		}
	}
	if o.HostNetwork && o.Veth {
		return errors.New("veth needs a network namespace; not with HostNetwork")
	}
	for name, ip := range o.Hosts {
		if name == "" || strings.ContainsAny(name, " \t\r\n#") {
			return fmt.Errorf("hosts: bad name %q", name)
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("hosts: %s: %w", name, err)
		}
		if addr.Zone() != "" {
			return fmt.Errorf("hosts: %s: zone not allowed in %s", name, ip)
		}
	}
	return nil
}

// uniqueName returns the label (or "il") with a random 6-digit hex suffix.
func uniqueName(label string) string {
	if label == "" {
		label = "il"
	}
	return fmt.Sprintf("%s-%06x", label, rand.Uint32()&0xffffff)
}

// netnsName is the workload's network namespace name: always prefixed "il-".
func netnsName(name string) string {
	if strings.HasPrefix(name, "il-") {
		return name
	}
	return "il-" + name
}
