// SPDX-License-Identifier: Apache-2.0

package controlclient_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/interlockhq/interlock/control"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
)

func config(p *plane.Plane) controlclient.Config {
	return controlclient.Config{Server: p.Addr, ServerName: "127.0.0.1"}
}

func TestEnrollOnceThenReuse(t *testing.T) {
	p := plane.Start(t, nil)
	dir := filepath.Join(t.TempDir(), "state")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ec := controlclient.EnrollConfig{StateDir: dir, NodeName: "vm-1", BootstrapToken: p.BootstrapToken(), ControlCA: p.CAPEM}
	id, err := controlclient.Enroll(ctx, config(p), ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{controlclient.ClientKeyFile, controlclient.CAKeyFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", f, fi.Mode(), err)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v, %v", fi.Mode(), err)
	}
	if !id.NodeCA.IsCA || !id.NodeCA.MaxPathLenZero {
		t.Fatalf("node CA: IsCA %v MaxPathLenZero %v", id.NodeCA.IsCA, id.NodeCA.MaxPathLenZero)
	}

	// A later start reuses the enrolment: no token (the used one would be
	// refused), same node id.
	ec.BootstrapToken = ""
	again, err := controlclient.Enroll(ctx, config(p), ec)
	if err != nil || again.NodeID != id.NodeID {
		t.Fatalf("second start: %v; want node %s", err, id.NodeID)
	}
	cfg := config(p)
	cfg.Identity = again
	c, err := controlclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := interlockv1.NewSessionServiceClient(c.Conn()).Resume(ctx, &interlockv1.ResumeRequest{}); err != nil {
		t.Fatalf("a node-only call over mTLS: %v", err)
	}

	// A used token cannot enrol another directory.
	ec2 := controlclient.EnrollConfig{StateDir: t.TempDir(), NodeName: "vm-2", BootstrapToken: p.BootstrapToken(), ControlCA: p.CAPEM}
	if _, err := controlclient.Enroll(ctx, config(p), ec2); err != nil {
		t.Fatal(err)
	}
	ec2.StateDir = t.TempDir()
	if _, err := controlclient.Enroll(ctx, config(p), ec2); err == nil {
		t.Fatal("a bootstrap token enrolled twice")
	}
}

// A bundle that does not load on the node is not applied and not cached;
// the next good one is.
func TestPolicyWatcherRefusesBundleThatDoesNotLoad(t *testing.T) {
	p := plane.Start(t, nil)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := controlclient.Enroll(ctx, config(p), controlclient.EnrollConfig{StateDir: dir, NodeName: "vm", BootstrapToken: p.BootstrapToken(), ControlCA: p.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(p)
	cfg.Identity = id
	c, err := controlclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan controlclient.Policy, 10)
	cache := filepath.Join(dir, controlclient.PolicyFile)
	// The node allows 1 rule per bundle; the control plane allows more.
	w, err := controlclient.NewPolicyWatcher(c.Conn(), controlclient.PolicyOptions{
		OnBundle: func(p controlclient.Policy) { got <- p }, CacheFile: cache, Load: policy.Options{MaxRules: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()

	admin := interlockv1.NewPolicyServiceClient(p.Person(p.AdminToken))
	pushRules := func(n int) uint64 {
		y := "apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n"
		for i := range n {
			y += "  - {name: r" + string(rune('a'+i)) + ", when: 'request.method == \"DELETE\"', action: deny}\n"
		}
		r, err := admin.Push(ctx, &interlockv1.PushPolicyRequest{Documents: []*interlockv1.PolicyDocument{{Name: "p.yaml", Yaml: []byte(y)}}})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetBundle().GetVersion()
	}
	v1 := pushRules(1)
	if b := <-got; b.Version != v1 {
		t.Fatalf("applied version %d, want %d", b.Version, v1)
	}
	pushRules(2) // valid at the control plane, too big for this node
	v3 := pushRules(1)
	b := <-got
	if b.Version != v3 {
		t.Fatalf("applied version %d after the refused one, want %d", b.Version, v3)
	}
	if !bytes.Equal(b.SHA256, control.BundleDigest(b.Source.GetDocuments())) {
		t.Fatal("BundleDigest differs from the control plane's")
	}
	select {
	case extra := <-got:
		t.Fatalf("also applied version %d", extra.Version)
	default:
	}
	// The cache holds v3: a watcher started without the control plane
	// enforces it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		w2, err := controlclient.NewPolicyWatcher(c.Conn(), controlclient.PolicyOptions{OnBundle: func(p controlclient.Policy) { got <- p }, CacheFile: cache})
		if err != nil {
			t.Fatal(err)
		}
		if cur, ok := w2.Current(); ok && cur.Version == v3 && cur.Cached {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache does not hold version %d", v3)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
