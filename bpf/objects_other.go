// SPDX-License-Identifier: Apache-2.0

//go:build !linux

// objects_other.go holds the API on systems without eBPF interception: every
// call fails with ErrNotSupported, so callers build everywhere and refuse
// transparent mode at run time.

package bpf

import (
	"fmt"
	"net/netip"
	"syscall"
)

// Objects is not available on this system.
type Objects struct{}

func unsupported(op string) error { return fmt.Errorf("bpf: %s: %w", op, ErrNotSupported) }

// Probe fails: interception needs Linux.
func Probe() error { return unsupported("probe") }

// Load fails: interception needs Linux.
func Load(Config) (*Objects, error) { return nil, unsupported("load") }

// NetnsCookie fails: netns cookies need Linux.
func NetnsCookie(syscall.Conn) (uint64, error) { return 0, unsupported("netns cookie") }

func (o *Objects) Attach(string, Workload) error { return unsupported("attach") }
func (o *Objects) Detach(string) error           { return unsupported("detach") }
func (o *Objects) DetachID(uint64) error         { return unsupported("detach") }
func (o *Objects) SetReady(uint64, bool) error   { return unsupported("set ready") }
func (o *Objects) Lookup(uint64, netip.AddrPort) (Original, error) {
	return Original{}, unsupported("lookup")
}
func (o *Objects) Counters() (Counters, error) { return Counters{}, unsupported("counters") }
func (o *Objects) MapSizes() (MapSizes, error) { return MapSizes{}, unsupported("map sizes") }
func (o *Objects) Close() error                { return nil }
func (o *Objects) Unpin() error                { return unsupported("unpin") }
func (o *Objects) PinDir() string              { return "" }
