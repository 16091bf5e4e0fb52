// SPDX-License-Identifier: Apache-2.0

package nodeagent

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/bpf/bpftest"
	"github.com/interlockhq/interlock/nodeagent/workload"
	"github.com/interlockhq/interlock/test/echoproc"
	"github.com/interlockhq/interlock/test/podsim"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// TestMetricsAndReadiness: /readyz says what is missing until discovery
// has attached the workloads; after three known connections /metrics has
// exactly the counts.
func TestMetricsAndReadiness(t *testing.T) {
	bpftest.Require(t)
	w := podsim.Start(t, podsim.Options{Name: "metrics", HostNetwork: true})
	a, err := New(Config{
		BPF: bpf.Config{PinDir: bpftest.PinDir()}, ProxyPort: freePort(t), DetachOnExit: true,
		Discovery: workload.Config{VMs: []workload.VM{{Name: "metered", Cgroup: w.CgroupPath()}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := a.HealthHandler()
	if code, body := get(t, h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "workloads") {
		t.Errorf("/readyz before Run = %d %q, want 503 naming workloads", code, body)
	}
	a.Require("policy")
	r := &running{a: a, stop: func() {}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.shutdown(t) })

	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := get(t, h, "/readyz")
		if body == "not ready: policy\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %q, want only the policy missing", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.SetReady("policy", true)
	if code, body := get(t, h, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %q, want ready", code, body)
	}

	dst := echoproc.RandomLoopback(443)
	echoproc.StartServer(t, dst)
	const size = 1000
	for range 3 {
		cmd := echoproc.Agent(dst, size)
		if err := w.Start(cmd); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	// The agents got their echo, so the proxy has relayed; the counters are
	// bumped when each connection's handler returns.
	var body string
	for range 100 {
		_, body = get(t, h, "/metrics")
		if strings.Contains(body, `interlock_node_connections_total{outcome="passthrough",workload="metered"} 3`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		`interlock_node_connections_total{outcome="passthrough",workload="metered"} 3`,
		`interlock_node_passthrough_bytes_total{direction="from_client",workload="metered"} 3000`,
		`interlock_node_passthrough_bytes_total{direction="to_client",workload="metered"} 3000`,
		`interlock_node_bpf_connects_total{verdict="redirected"} 3`,
		`interlock_node_bpf_connects_total{verdict="refused_not_ready"} 0`,
		`interlock_node_bpf_map_entries{map="workloads"} 1`,
		`interlock_node_bpf_map_entries{map="conn_orig"} 0`,
		"interlock_node_workloads 1",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(body, "interlock_"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
