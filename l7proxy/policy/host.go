// SPDX-License-Identifier: Apache-2.0

// Host patterns of targets: exact names or *.suffix, with an optional port.

package policy

import (
	"errors"
	"strconv"
	"strings"
)

// HostPattern is one entry of a target's hosts.
type HostPattern struct {
	// Host is the lower-case name; for a wildcard it is the suffix after
	// "*." (vault.azure.net for *.vault.azure.net).
	Host string
	// Wildcard is true for *.suffix: it matches one or more labels before
	// the suffix, never the suffix itself.
	Wildcard bool
	// Port is the port given, or the protocol's default (443, 5432).
	Port uint16
}

func (h HostPattern) String() string {
	s := h.Host
	if h.Wildcard {
		s = "*." + s
	}
	return s + ":" + strconv.Itoa(int(h.Port))
}

// defaultPort is the port a host without one means.
func defaultPort(protocol string) uint16 {
	if protocol == ProtocolPostgres {
		return 5432
	}
	return 443
}

// parseHostPattern parses name, *.suffix, name:port or *.suffix:port.
func parseHostPattern(s, protocol string) (HostPattern, error) {
	var h HostPattern
	host, port := s, ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return h, errors.New("port must be a number from 1 to 65535")
		}
		h.Port = uint16(p)
	} else {
		h.Port = defaultPort(protocol)
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		h.Wildcard = true
		host = rest
		if !strings.Contains(host, ".") {
			return h, errors.New("a wildcard needs a suffix of two labels or more (*.example.com)")
		}
	}
	if err := checkHostname(host); err != nil {
		return h, err
	}
	h.Host = strings.ToLower(host)
	return h, nil
}

// checkHostname accepts DNS names: labels of letters, digits and hyphens,
// not starting or ending with a hyphen, at most 253 bytes.
func checkHostname(host string) error {
	if host == "" {
		return errors.New("empty host name")
	}
	if len(host) > 253 {
		return errors.New("host name longer than 253 bytes")
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("host name has an empty or over-long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("a host label may not start or end with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				if c == '*' {
					return errors.New("a wildcard may only be the first label, as *.suffix")
				}
				return errors.New("a host name holds only letters, digits, hyphens and dots")
			}
		}
	}
	return nil
}

// hostKey identifies an exact host or a wildcard suffix on a port.
type hostKey struct {
	host string
	port uint16
}

// targetTable finds the target of a connection.
type targetTable struct {
	exact    map[hostKey]*Target
	wildcard map[hostKey]*Target
}

// ErrProtocolMismatch is returned by Bundle.Target when host and port
// belong to a target of another protocol. The caller must refuse the
// connection: passing it through would let an agent bypass inspection by
// speaking another protocol.
var ErrProtocolMismatch = errors.New("policy: connection protocol does not match the target's")

// lookup returns the target for host:port: an exact name first, then the
// wildcard with the longest suffix.
func (tt *targetTable) lookup(host string, port uint16) *Target {
	host = strings.TrimSuffix(host, ".")
	if hasUpper(host) {
		host = strings.ToLower(host)
	}
	if t := tt.exact[hostKey{host, port}]; t != nil {
		return t
	}
	if len(tt.wildcard) == 0 {
		return nil
	}
	// Longest suffix first: drop one label at a time.
	rest := host
	for {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			return nil
		}
		rest = rest[i+1:]
		if t := tt.wildcard[hostKey{rest, port}]; t != nil {
			return t
		}
	}
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}
