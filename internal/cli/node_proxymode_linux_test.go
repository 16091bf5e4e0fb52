// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/control"
)

// TestNodeProxyMode runs `interlock node --mode=proxy` with a control
// plane: it enrols, serves its listeners, is not ready until a policy is
// pushed (and for no other reason: no BPF condition), then is ready, and
// stops cleanly.
func TestNodeProxyMode(t *testing.T) {
	p := startPlane(t)
	tok, err := control.NewBootstrapToken(context.Background(), p.db, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	tokFile := p.tokenFile("bootstrap", tok)
	dir := t.TempDir()
	metrics, connect, pgListen := freeAddr(t), freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"node", "--mode=proxy", "--control", p.addr, "--control-ca", p.caFile, "--control-server-name", "127.0.0.1",
			"--bootstrap-token-file", tokFile, "--state-dir", filepath.Join(dir, "node"), "--node-name", "proxy-node",
			"--connect-listen", connect, "--pg", pgListen + "=crm.postgres.example.test:5432", "--metrics-listen", metrics},
			strings.NewReader(""), &out, &out)
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("node: %v\n%s", err, out.String())
			}
		}
	}
	t.Cleanup(stop)

	readyz := func() (int, string) {
		resp, err := http.Get("http://" + metrics + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	waitFor(t, 30*time.Second, "the node's health endpoint", func() bool { code, _ := readyz(); return code != 0 })
	if code, body := readyz(); code != http.StatusServiceUnavailable || body != "not ready: policy" {
		t.Errorf("/readyz before a policy: %d %q, want 503 naming only the policy", code, body)
	}
	for _, want := range []string{
		"interlock node (proxy mode): enrolled with " + p.addr,
		"set HTTPS_PROXY=http://" + connect,
		"PostgreSQL crm.postgres.example.test:5432 at " + pgListen,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the node's banner lacks %q:\n%s", want, out.String())
		}
	}

	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte(upPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cli(p.tokenFile("admin", p.admin), "policy", "push", file); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the node ready with the policy", func() bool { code, _ := readyz(); return code == http.StatusOK })
	if m := httpGet(t, "http://"+metrics+"/metrics"); !strings.Contains(m, "interlock_node_policy_version 1\n") {
		t.Errorf("/metrics lacks the policy version:\n%s", m)
	}
	stop()
}
