// SPDX-License-Identifier: Apache-2.0

// Package bpftest loads Interlock's BPF objects for the tests of other
// packages (the proxy, the node agent): in a private pin dir, removed with
// every link on cleanup, with the kernel requirement routed through testenv.
package bpftest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/test/testenv"
)

// Require fails or skips t (see testenv) unless this machine can run
// Interlock's interception.
func Require(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t, "loading and attaching BPF programs")
	if err := bpf.Probe(); err != nil {
		testenv.Skip(t, "kernel cannot run interception: %v", err)
	}
}

// PinDir returns a fresh pin dir under /sys/fs/bpf, unique per call.
func PinDir() string {
	return fmt.Sprintf("/sys/fs/bpf/interlock-test-%08x", rand.Uint32())
}

// Load loads the objects with cfg (a private pin dir unless cfg.PinDir is
// set) and unpins and closes them on cleanup, which detaches every link.
func Load(t testing.TB, cfg bpf.Config) *bpf.Objects {
	t.Helper()
	Require(t)
	if cfg.PinDir == "" {
		cfg.PinDir = PinDir()
	}
	o, err := bpf.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.Unpin(); err != nil {
			t.Errorf("bpftest: unpin: %v", err)
		}
		if err := o.Close(); err != nil {
			t.Errorf("bpftest: close: %v", err)
		}
	})
	return o
}
