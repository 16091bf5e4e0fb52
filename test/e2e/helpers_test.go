// SPDX-License-Identifier: Apache-2.0

// Test nodes: enrolled, connected, watching policy and approvals.

package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
)

// fastDial makes gRPC reconnect quickly after a control plane restart.
var fastDial = []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 200 * time.Millisecond},
	MinConnectTimeout: 5 * time.Second,
})}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// clientConfig is how nodes reach p.
func clientConfig(t testing.TB, p *plane.Plane) controlclient.Config {
	return controlclient.Config{Server: p.Addr, ServerName: "127.0.0.1", Logger: testLogger(t), DialOptions: fastDial}
}

// enroll returns the identity in dir, enrolling with p first if needed.
func enroll(t testing.TB, p *plane.Plane, dir, name string) *controlclient.Identity {
	t.Helper()
	ec := controlclient.EnrollConfig{StateDir: dir, NodeName: name, ControlCA: p.CAPEM}
	if _, err := controlclient.LoadIdentity(dir); errors.Is(err, controlclient.ErrNotEnrolled) {
		ec.BootstrapToken = p.BootstrapToken()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := controlclient.Enroll(ctx, clientConfig(t, p), ec)
	if err != nil {
		t.Fatalf("enroll %s: %v", name, err)
	}
	return id
}

// testNode is a node's control plane side: policy and approvals.
type testNode struct {
	t         testing.TB
	name, dir string
	id        *controlclient.Identity
	client    *controlclient.Client
	policy    *controlclient.PolicyWatcher
	approvals *controlclient.Approvals

	mu      sync.Mutex
	applied []controlclient.Policy // what OnBundle was given, in order
	changed chan struct{}          // closed and replaced by OnBundle

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startNode enrols (unless dir holds an enrolment) and starts a node.
func startNode(t testing.TB, p *plane.Plane, dir, name string) *testNode {
	t.Helper()
	n := &testNode{t: t, name: name, dir: dir, changed: make(chan struct{})}
	n.id = enroll(t, p, dir, name)
	cfg := clientConfig(t, p)
	cfg.Identity = n.id
	var err error
	if n.client, err = controlclient.Dial(cfg); err != nil {
		t.Fatal(err)
	}
	n.policy, err = controlclient.NewPolicyWatcher(n.client.Conn(), controlclient.PolicyOptions{
		OnBundle:   n.onBundle,
		CacheFile:  dir + "/" + controlclient.PolicyFile,
		Logger:     testLogger(t),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	n.approvals = controlclient.NewApprovals(n.client.Conn(), controlclient.ApprovalOptions{
		Logger: testLogger(t), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Go(func() { n.policy.Run(ctx) })
	n.wg.Go(func() { n.approvals.Run(ctx) })
	t.Cleanup(n.stop)
	return n
}

func (n *testNode) onBundle(p controlclient.Policy) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.applied = append(n.applied, p)
	close(n.changed)
	n.changed = make(chan struct{})
}

// stop stops the node's watchers and closes its connection; idempotent.
func (n *testNode) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.wg.Wait()
	n.client.Close()
	n.cancel = nil
}

// enforced returns the last bundle OnBundle was given.
func (n *testNode) enforced() (controlclient.Policy, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.applied) == 0 {
		return controlclient.Policy{}, false
	}
	return n.applied[len(n.applied)-1], true
}

// waitVersion waits until the node enforces version v.
func (n *testNode) waitVersion(v uint64, within time.Duration) error {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		ch := n.changed
		var have uint64
		if len(n.applied) > 0 {
			have = n.applied[len(n.applied)-1].Version
		}
		n.mu.Unlock()
		if have >= v {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return fmt.Errorf("node %s enforces version %d after %v, want %d", n.name, have, within, v)
		}
	}
}

// denyingRule evaluates a resource group delete with the node's bundle and
// returns the rule that denied it ("" when allowed).
func (n *testNode) denyingRule() string {
	n.t.Helper()
	p, ok := n.enforced()
	if !ok {
		n.t.Fatalf("node %s enforces no bundle", n.name)
	}
	d, err := p.Bundle.Evaluate(context.Background(), &policy.Request{
		Target: policy.TargetInfo{Name: "arm", Protocol: "https", Host: "management.azure.com", Port: 443},
		HTTP:   policy.HTTP{Protocol: "https", Method: "DELETE", Host: "management.azure.com", Path: "/subscriptions/s/resourcegroups/rg"},
		ARM:    policy.ARM{Subscription: "s", ResourceGroup: "rg", Operation: "Microsoft.Resources/subscriptions/resourceGroups/delete"},
	})
	if err != nil {
		n.t.Fatalf("evaluate: %v", err)
	}
	if d.Action != policy.Deny || d.Rule == nil {
		return ""
	}
	return d.Rule.Name
}

// policyDoc is a valid policy whose deny rule names its generation.
func policyDoc(gen int) []byte {
	return fmt.Appendf(nil, `apiVersion: interlock/v1
kind: Policy
metadata: {name: e2e}
targets:
  - name: arm
    protocol: https
    hosts: [management.azure.com]
rules:
  - name: deny-rg-delete-%d
    when: arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
    action: deny
defaultAction: allow
`, gen)
}

// push pushes one generation of the policy as the local admin.
func push(t testing.TB, p *plane.Plane, gen int) *interlockv1.PolicyBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := interlockv1.NewPolicyServiceClient(p.Person(p.AdminToken)).Push(ctx, &interlockv1.PushPolicyRequest{
		Documents: []*interlockv1.PolicyDocument{{Name: "e2e.yaml", Yaml: policyDoc(gen)}},
		Comment:   fmt.Sprintf("generation %d", gen),
	})
	if err != nil {
		t.Fatalf("push generation %d: %v", gen, err)
	}
	return resp.GetBundle()
}
