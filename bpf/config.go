// SPDX-License-Identifier: Apache-2.0

// config.go holds Config, what Load puts into the interception maps, and its
// defaults and validation.

package bpf

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
)

// DefaultPinDir is where Load pins maps and links when Config.PinDir is empty.
const DefaultPinDir = "/sys/fs/bpf/interlock"

// DefaultMaxConnections bounds sock_orig and conn_orig when
// Config.MaxConnections is zero.
const DefaultMaxConnections = 65536

// DefaultPorts are the destination ports intercepted when Config.Ports is
// empty: HTTPS and PostgreSQL.
var defaultPorts = []uint16{443, 5432}

// Config says where the objects are pinned and which connects are
// intercepted. A Config must not change once it is passed to Load.
type Config struct {
	// PinDir is the bpffs directory of the pinned maps and links; empty
	// means DefaultPinDir. It must lie on a bpffs; if it is under
	// /sys/fs/bpf and nothing is mounted there, Load mounts bpffs there
	// (and logs it).
	PinDir string

	// Ports are the intercepted destination ports; empty means 443 and
	// 5432. At most 64.
	Ports []uint16

	// Intercept are the destination prefixes to intercept; empty means all
	// (::/0, which covers IPv4 as ::ffff:0:0/96). IPv4 prefixes are stored
	// v4-mapped.
	Intercept []netip.Prefix

	// Skip are prefixes that are never intercepted. A connect is intercepted
	// when its longest matching prefix is in Intercept.
	Skip []netip.Prefix

	// MaxConnections bounds the LRU maps of original destinations (each
	// live redirected connection holds one entry in each). Zero means
	// DefaultMaxConnections. Changing it for an existing pin dir makes Load
	// fail with ebpf.ErrMapIncompatible: Unpin first.
	MaxConnections uint32

	// Logger receives what Load does on the node's behalf (mounting bpffs,
	// taking over pins). Nil means slog.Default().
	Logger *slog.Logger
}

// dstRule is one intercept_dsts entry.
type dstRule struct {
	prefix netip.Prefix // v4-mapped for IPv4, masked
	action uint8
}

const (
	actionIntercept uint8 = 1
	actionSkip      uint8 = 2
)

// withDefaults returns a copy of c with its defaults filled in, or an error
// naming what is invalid.
func (c Config) withDefaults() (Config, error) {
	if c.PinDir == "" {
		c.PinDir = DefaultPinDir
	}
	if !filepath.IsAbs(c.PinDir) {
		return c, fmt.Errorf("pin dir %q: not absolute", c.PinDir)
	}
	c.PinDir = filepath.Clean(c.PinDir)
	if len(c.Ports) == 0 {
		c.Ports = defaultPorts
	}
	if len(c.Ports) > 64 {
		return c, fmt.Errorf("%d ports: at most 64", len(c.Ports))
	}
	for _, p := range c.Ports {
		if p == 0 {
			return c, errors.New("port 0 cannot be intercepted")
		}
	}
	if len(c.Intercept) == 0 {
		c.Intercept = []netip.Prefix{netip.MustParsePrefix("::/0")}
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// rules converts Intercept and Skip to intercept_dsts entries.
func (c Config) rules() ([]dstRule, error) {
	seen := make(map[netip.Prefix]uint8)
	var out []dstRule
	add := func(ps []netip.Prefix, action uint8) error {
		for _, p := range ps {
			m, err := mapPrefix(p)
			if err != nil {
				return err
			}
			if prev, ok := seen[m]; ok && prev != action {
				return fmt.Errorf("prefix %s is both intercepted and skipped", p)
			}
			seen[m] = action
			out = append(out, dstRule{prefix: m, action: action})
		}
		return nil
	}
	if err := add(c.Intercept, actionIntercept); err != nil {
		return nil, err
	}
	if err := add(c.Skip, actionSkip); err != nil {
		return nil, err
	}
	return out, nil
}

// mapPrefix returns p masked, as a 128-bit prefix (v4-mapped for IPv4).
func mapPrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("prefix %q: invalid", p)
	}
	if p.Addr().Zone() != "" || strings.Contains(p.String(), "%") {
		return netip.Prefix{}, fmt.Errorf("prefix %s: zones are not supported", p)
	}
	p = p.Masked()
	if p.Addr().Is4() {
		return netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), p.Bits()+96), nil
	}
	return p, nil
}
