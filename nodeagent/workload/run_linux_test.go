// SPDX-License-Identifier: Apache-2.0

// Run: pods appearing when their container starts, going away when it
// exits or the pod is deleted, and surviving an outage of the pod source.

package workload

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/podsim"
)

// change is one onChange call.
type change struct{ added, removed []Workload }

// runner drives a Scanner's Run in the background for a test.
type runner struct {
	t       *testing.T
	s       *Scanner
	src     *staticPods
	changes chan change
	cancel  context.CancelFunc
	done    chan error
}

// startRun runs s with an interval too long to matter: only Rescan scans.
func startRun(t *testing.T, s *Scanner, src *staticPods) *runner {
	ctx, cancel := context.WithCancel(t.Context())
	r := &runner{t: t, s: s, src: src, changes: make(chan change, 100), cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- s.Run(ctx, time.Hour, func(added, removed []Workload) {
			r.changes <- change{added, removed}
		})
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop ends Run and returns its result; it may be called more than once.
func (r *runner) stop() error {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(30 * time.Second):
		r.t.Error("Run did not return after cancel")
		return nil
	}
}

// settle makes Run scan and waits until that scan, and its onChange call
// if any, is over: when the scan after it lists pods.
func (r *runner) settle() {
	r.t.Helper()
	for range len(r.src.calls) {
		<-r.src.calls
	}
	for range 2 {
		r.s.Rescan()
		select {
		case <-r.src.calls:
		case <-time.After(30 * time.Second):
			r.t.Fatal("no scan after Rescan")
		}
	}
}

// next returns the next onChange call, or fails.
func (r *runner) next() change {
	r.t.Helper()
	select {
	case c := <-r.changes:
		return c
	case <-time.After(30 * time.Second):
		r.t.Fatal("no onChange call")
		return change{}
	}
}

// expect settles and checks that onChange was called once, with exactly
// these pods (by UID) added and removed; nil and nil means no call.
func (r *runner) expect(what string, added, removed []string) {
	r.t.Helper()
	r.settle()
	if added == nil && removed == nil {
		select {
		case c := <-r.changes:
			r.t.Fatalf("%s: unexpected onChange(added %s, removed %s)", what, keys(c.added), keys(c.removed))
		default:
			return
		}
	}
	c := r.next()
	if !sameUIDs(c.added, added) || !sameUIDs(c.removed, removed) {
		r.t.Fatalf("%s: onChange(added %s, removed %s), want added %v removed %v", what, keys(c.added), keys(c.removed), added, removed)
	}
	select {
	case c := <-r.changes:
		r.t.Fatalf("%s: second onChange(added %s, removed %s)", what, keys(c.added), keys(c.removed))
	default:
	}
}

func sameUIDs(ws []Workload, uids []string) bool {
	if len(ws) != len(uids) {
		return false
	}
	for i, w := range ws {
		if w.PodUID != uids[i] {
			return false
		}
	}
	return true
}

func TestRunRescan(t *testing.T) {
	k := newKubesim(t, driverSystemd)
	pod := podsim.Start(t, podsim.Options{Name: "kubesim-run"})
	ns := "run-" + randHex(3)
	a := Pod{UID: newUID(), Name: "a", Namespace: ns, QOSClass: QOSBurstable}
	b := Pod{UID: newUID(), Name: "b", Namespace: ns, QOSClass: QOSGuaranteed}
	aDir := k.podCgroup(t, a.UID, QOSBurstable)
	runIn(t, pod, container(t, aDir, "containerd"))

	src := newStaticPods(a)
	s, err := NewScanner(Config{Pods: src, Selectors: []Selector{{Namespace: ns}}, KubeletCgroupRoot: k.rel, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := startRun(t, s, src)
	first := r.next()
	if !sameUIDs(first.added, []string{a.UID}) || len(first.removed) != 0 {
		t.Fatalf("first onChange(added %s, removed %s), want a added", keys(first.added), keys(first.removed))
	}
	if err := s.Run(t.Context(), 0, func(_, _ []Workload) {}); err == nil {
		t.Error("a second concurrent Run succeeded")
	}

	src.set(nil, a, b)
	r.expect("b listed, no cgroup", nil, nil)
	bDir := k.podCgroup(t, b.UID, QOSGuaranteed)
	bCtr := container(t, bDir, "crio")
	r.expect("b has a cgroup, no process", nil, nil)
	bCmd := runIn(t, pod, bCtr)
	r.expect("b's container started", []string{b.UID}, []string{})

	src.set(nil, b)
	r.expect("a deleted", []string{}, []string{a.UID})
	stop(bCmd)
	r.expect("b's container exited", []string{}, []string{b.UID})
	runIn(t, pod, bCtr)
	r.expect("b's container restarted", []string{b.UID}, []string{})

	src.set(errors.New("apiserver unreachable"), nil...)
	r.expect("pod source fails", nil, nil)
	got, err := s.Scan(t.Context())
	if err == nil || len(got) != 0 {
		t.Errorf("Scan with a failing source = %s, %v; want nothing and an error", keys(got), err)
	}
	src.set(nil)
	r.expect("pod source back, b gone", []string{}, []string{b.UID})

	if err := r.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}
