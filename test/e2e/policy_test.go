// SPDX-License-Identifier: Apache-2.0

package e2e_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/interlockhq/interlock/control"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
)

// Push reaches both nodes within a second; through a control plane
// restart the nodes keep enforcing and then resync; a node started while
// the control plane is down enforces its cached bundle.
func TestPolicyDistribution(t *testing.T) {
	p := plane.Start(t, nil)
	a := startNode(t, p, t.TempDir(), "node-a")
	b := startNode(t, p, t.TempDir(), "node-b")

	start := time.Now()
	v1 := push(t, p, 1)
	for _, n := range []*testNode{a, b} {
		if err := n.waitVersion(v1.GetVersion(), time.Second); err != nil {
			t.Fatal(err)
		}
		got, _ := n.enforced()
		if !bytes.Equal(got.SHA256, control.BundleDigest(v1.GetDocuments())) || got.Cached {
			t.Fatalf("node %s: sha256 %x cached %v; want %x from the control plane", n.name, got.SHA256, got.Cached, v1.GetSha256())
		}
		if r := n.denyingRule(); r != "deny-rg-delete-1" {
			t.Fatalf("node %s: denied by %q, want deny-rg-delete-1", n.name, r)
		}
	}
	t.Logf("push → both nodes enforce it: %v", time.Since(start).Round(time.Millisecond))

	// Control plane down: the nodes keep enforcing.
	p.Stop()
	time.Sleep(300 * time.Millisecond)
	for _, n := range []*testNode{a, b} {
		if r := n.denyingRule(); r != "deny-rg-delete-1" {
			t.Fatalf("node %s with the control plane down: denied by %q", n.name, r)
		}
	}
	// Back up: a push after the restart reaches both.
	p.Resume()
	v2 := push(t, p, 2)
	start = time.Now()
	for _, n := range []*testNode{a, b} {
		if err := n.waitVersion(v2.GetVersion(), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if r := n.denyingRule(); r != "deny-rg-delete-2" {
			t.Fatalf("node %s after resync: denied by %q", n.name, r)
		}
	}
	t.Logf("after a restart, push → both nodes: %v", time.Since(start).Round(time.Millisecond))

	// Node a restarts while the control plane is down: it enforces its
	// cached bundle at once.
	a.stop()
	p.Stop()
	a2 := startNode(t, p, a.dir, "node-a")
	got, ok := a2.enforced()
	if !ok || !got.Cached || got.Version != v2.GetVersion() {
		t.Fatalf("node restarted without the control plane enforces %+v (ok %v); want cached version %d", got, ok, v2.GetVersion())
	}
	if r := a2.denyingRule(); r != "deny-rg-delete-2" {
		t.Fatalf("cached bundle denied by %q", r)
	}
	if a2.id.NodeID != a.id.NodeID {
		t.Fatalf("restarted node has id %s, was %s: enrolment not reused", a2.id.NodeID, a.id.NodeID)
	}
	// It reports its version when the control plane is back, and follows.
	p.Resume()
	v3 := push(t, p, 3)
	if err := a2.waitVersion(v3.GetVersion(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nodes, err := interlockv1.NewNodeServiceClient(p.Person(p.AdminToken)).List(ctx, &interlockv1.ListNodesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes.GetNodes() {
		if nd.GetNodeId() == a.id.NodeID && nd.GetPolicyVersion() < v2.GetVersion() {
			t.Errorf("control plane says node-a has version %d, want at least %d (its cache)", nd.GetPolicyVersion(), v2.GetVersion())
		}
	}
	if len(nodes.GetNodes()) != 2 {
		t.Errorf("%d nodes enrolled, want 2", len(nodes.GetNodes()))
	}
}
