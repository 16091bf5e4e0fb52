// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf/bpftest"
)

const upPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: local}
targets:
  - name: arm
    protocol: https
    hosts: [management.azure.com]
    credential: {mode: passthrough}
identity:
  issuers:
    - {issuer: "https://sts.windows.net/00000000-0000-0000-0000-000000000000/", audience: "https://management.core.windows.net/"}
rules:
  - name: reads
    when: request.method == "GET"
    action: allow
defaultAction: deny
`

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestUp runs `interlock up`, becomes ready, runs a command with `interlock
// exec` that sees the workload CA bundle, follows a policy file change,
// refuses a broken one, and on stop leaves no pins or cgroups.
func TestUp(t *testing.T) {
	bpftest.Require(t)
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(upPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "node.sock")
	metrics, controlMetrics := freeAddr(t), freeAddr(t)
	pins := bpftest.PinDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"up", "--policy", policyFile, "--data-dir", filepath.Join(dir, "data"), "--listen", freeAddr(t),
			"--socket", sock, "--metrics-listen", metrics, "--control-metrics-listen", controlMetrics, "--pin-dir", pins, "--proxy-port", strings.Split(freeAddr(t), ":")[1]},
			strings.NewReader(""), &out, &out)
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("up: %v\n%s", err, out.String())
			}
		}
	}
	t.Cleanup(stop)

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + metrics + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("interlock up not ready:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"admin credential:", "CA bundle for workloads:", "interlock exec --workload NAME"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("up's banner lacks %q:\n%s", want, out.String())
		}
	}

	// The control plane's metrics: one node enrolled, the policy pushed
	// once.
	cm := httpGet(t, "http://"+controlMetrics+"/metrics")
	for _, want := range []string{"interlock_control_nodes 1\n", "interlock_control_policy_version 1\n"} {
		if !strings.Contains(cm, want) {
			t.Errorf("control plane /metrics lacks %q:\n%s", want, cm)
		}
	}

	var execOut bytes.Buffer
	if err := Run(context.Background(), []string{"exec", "--socket", sock, "--workload", "demo", "--", "sh", "-c", `cat "$SSL_CERT_FILE"`},
		strings.NewReader(""), &execOut, &execOut); err != nil {
		t.Fatalf("exec: %v\n%s", err, execOut.String())
	}
	if n := strings.Count(execOut.String(), "BEGIN CERTIFICATE"); n < 2 {
		t.Errorf("the workload's SSL_CERT_FILE holds %d certificates, want the workload root and the system roots", n)
	}

	if err := os.WriteFile(policyFile, []byte(strings.Replace(upPolicy, "action: allow", "action: allow\n    message: changed", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the changed policy pushed", func() bool { return strings.Contains(out.String(), "policy version 2 pushed") })
	if err := os.WriteFile(policyFile, []byte(upPolicy+"bogus: field\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the broken policy refused", func() bool {
		return strings.Contains(out.String(), "was not pushed; the previous policy stays in force")
	})

	stop()
	if _, err := os.Stat(pins); !os.IsNotExist(err) {
		t.Errorf("pins left at %s after stop: %v", pins, err)
	}
}

// httpGet returns the body of a 200 answer to GET url.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}
