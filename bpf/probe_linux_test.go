// SPDX-License-Identifier: Apache-2.0

// probe_test.go tests Probe, NetnsCookie and the not-found sentinel.

package bpf

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/testenv"
)

func TestProbe(t *testing.T) {
	testenv.RequireRoot(t, "probing BPF features")
	// This kernel is expected to have everything: under CI a failure here
	// is a failure, not a skip.
	if err := Probe(); err != nil {
		testenv.Skip(t, "Probe: %v", err)
	}
}

func TestNetnsCookie(t *testing.T) {
	requireBPF(t)
	host := listen(t, nil, "127.0.0.1:0")
	w := podsim.Start(t, podsim.Options{Name: "bpf-cookie"})
	pod := listen(t, w, "127.0.0.1:0")
	a, err := NetnsCookie(host)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NetnsCookie(pod)
	if err != nil {
		t.Fatal(err)
	}
	if a == 0 || b == 0 || a == b {
		t.Errorf("cookies host %d, pod %d: want two different non-zero", a, b)
	}
	host2 := listen(t, nil, "127.0.0.1:0")
	if c, err := NetnsCookie(host2); err != nil || c != a {
		t.Errorf("second host socket: %d, %v; want %d", c, err, a)
	}
}

func TestLookupNotFound(t *testing.T) {
	o := newObjects(t, Config{})
	_, err := o.Lookup(1, netip.MustParseAddrPort("127.0.0.1:1"))
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup = %v, want ErrNotFound and ebpf.ErrKeyNotExist", err)
	}
}
