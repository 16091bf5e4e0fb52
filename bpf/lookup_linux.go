// SPDX-License-Identifier: Apache-2.0

// lookup_linux.go reads the maps: original destinations, workload readiness,
// counters and map sizes.

package bpf

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
)

// notFound wraps ErrNotFound around the library's ErrKeyNotExist so that
// errors.Is matches both.
type notFound struct{ err error }

func (e notFound) Error() string { return ErrNotFound.Error() }
func (e notFound) Is(target error) bool {
	return target == ErrNotFound
}
func (e notFound) Unwrap() error { return e.err }

func wrapNotFound(err error) error {
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return notFound{err}
	}
	return err
}

// Lookup returns the original destination and identity of the redirected
// connection whose client end is client in the network namespace with the
// given cookie (see NetnsCookie). client is the accepted connection's remote
// address; IPv4 and v4-mapped forms are the same key. The entry exists from
// the client's TCP handshake until its socket closes, so call Lookup right
// after Accept; a connection that is not (or no longer) redirected gives an
// error matching ErrNotFound.
func (o *Objects) Lookup(netnsCookie uint64, client netip.AddrPort) (Original, error) {
	k := connKey(netnsCookie, client)
	var r interlockOrigRecord
	if err := o.objs.ConnOrig.Lookup(&k, &r); err != nil {
		return Original{}, fmt.Errorf("bpf: lookup %s: %w", client, wrapNotFound(err))
	}
	return originalFrom(&r), nil
}

// SetReady sets whether the proxy serves the workload of cgroupID (see
// CgroupID). The workload must be attached; otherwise the error matches
// ErrNotFound.
func (o *Objects) SetReady(cgroupID uint64, ready bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	var v interlockWorkload
	if err := o.objs.Workloads.Lookup(cgroupID, &v); err != nil {
		return fmt.Errorf("bpf: set ready %d: %w", cgroupID, wrapNotFound(err))
	}
	if ready {
		v.Flags |= flagReady
	} else {
		v.Flags &^= flagReady
	}
	if err := o.objs.Workloads.Update(cgroupID, &v, ebpf.UpdateExist); err != nil {
		return fmt.Errorf("bpf: set ready %d: %w", cgroupID, wrapNotFound(err))
	}
	return nil
}

// Counters sums the per-CPU counters.
func (o *Objects) Counters() (Counters, error) {
	var sum [interlockCounterCOUNTER_MAX]uint64
	var perCPU []uint64
	for i := range sum {
		if err := o.objs.Counters.Lookup(uint32(i), &perCPU); err != nil {
			return Counters{}, fmt.Errorf("bpf: counters: %w", err)
		}
		for _, v := range perCPU {
			sum[i] += v
		}
	}
	return Counters{
		Redirected:        sum[interlockCounterCOUNTER_REDIRECTED],
		RefusedNotReady:   sum[interlockCounterCOUNTER_REFUSED_NOT_READY],
		RefusedNoWorkload: sum[interlockCounterCOUNTER_REFUSED_NO_WORKLOAD],
		FailedOpen:        sum[interlockCounterCOUNTER_FAILED_OPEN],
		Skipped:           sum[interlockCounterCOUNTER_SKIPPED],
		MapUpdateErrors:   sum[interlockCounterCOUNTER_MAP_UPDATE_ERRORS],
	}, nil
}

// MapSizes counts the live entries of each map.
func (o *Objects) MapSizes() (MapSizes, error) {
	var s MapSizes
	for _, c := range []struct {
		m *ebpf.Map
		n *int
	}{
		{o.objs.SockOrig, &s.SockOrig},
		{o.objs.ConnOrig, &s.ConnOrig},
		{o.objs.Workloads, &s.Workloads},
		{o.objs.InterceptPorts, &s.InterceptPorts},
		{o.objs.InterceptDsts, &s.InterceptDsts},
	} {
		n, err := countKeys(c.m)
		if err != nil {
			return MapSizes{}, fmt.Errorf("bpf: map sizes: %w", err)
		}
		*c.n = n
	}
	return s, nil
}

// countKeys walks m's keys. Entries deleted during the walk can make the
// kernel restart it from the first key, so the walk is bounded by twice the
// map's capacity.
func countKeys(m *ebpf.Map) (int, error) {
	limit := 2 * int(m.MaxEntries())
	var key any // nil asks for the first key
	n := 0
	for ; n <= limit; n++ {
		next, err := m.NextKeyBytes(key)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", m, err)
		}
		if next == nil {
			return n, nil
		}
		key = next
	}
	return 0, fmt.Errorf("%s: more than %d keys seen while counting", m, limit)
}
