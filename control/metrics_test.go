// SPDX-License-Identifier: Apache-2.0

package control

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetrics: after one enrolment and no policy, /metrics says exactly
// that, and /readyz is ready.
func TestMetrics(t *testing.T) {
	ts := startServer(t, t.TempDir(), newIssuer(t))
	ts.enroll("vm1")
	h := ts.srv.HealthHandler()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(b)
	}
	_, body := get("/metrics")
	for _, want := range []string{
		"interlock_control_nodes 1\n",
		"interlock_control_approvals_pending 0\n",
		"interlock_control_policy_version 0\n",
		"interlock_control_scrape_errors 0\n",
		`interlock_control_node_policy_version{node="vm1"} 0` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, body := get("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
}
