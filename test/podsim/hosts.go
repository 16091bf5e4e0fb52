// SPDX-License-Identifier: Apache-2.0

// The contents of a workload's /etc/hosts and /etc/resolv.conf.

package podsim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// hostsFile renders entries (name → IP, already validated) as an /etc/hosts
// file, the localhost lines first, then one line per name in name order.
func hostsFile(entries map[string]string) []byte {
	var b strings.Builder
	b.WriteString("# written by interlock test/podsim\n127.0.0.1\tlocalhost\n::1\tlocalhost\n")
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "%s\t%s\n", netip.MustParseAddr(entries[name]), name)
	}
	return []byte(b.String())
}

// resolvConf sends every DNS query to loopback, where nothing is expected to
// answer: a name missing from the hosts file fails fast and never reaches a
// real DNS server.
const resolvConf = "# written by interlock test/podsim: names come from /etc/hosts only\n" +
	"nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
