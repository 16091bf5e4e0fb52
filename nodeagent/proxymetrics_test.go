// SPDX-License-Identifier: Apache-2.0

package nodeagent

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// TestProxyMetricsByProtocol: each handler's observer counts its
// decisions as requests (HTTPS) or statements (PostgreSQL), and masks by
// protocol and kind.
func TestProxyMetricsByProtocol(t *testing.T) {
	m := newProxyMetrics(prometheus.NewRegistry())
	h, pg := m.observer(protoHTTPS), m.observer(protoPostgres)
	h.Decision("arm", "ACTION_DENY", "no-rg-delete")
	pg.Decision("crm", "ACTION_DENY", "no-drop")
	pg.Decision("crm", "ACTION_ALLOW", "mask-email")
	pg.Decision("crm", "ACTION_ALLOW", "mask-email")
	h.Masked([]*interlockv1.MaskApplied{{Rule: "keys", JsonPath: "$.keys[*].value", Count: 2}, {Detector: "jwt", Count: 1}})
	pg.Masked([]*interlockv1.MaskApplied{{Rule: "mask-email", Column: "email", Count: 3}, {Detector: "jwt", Count: 1}})
	h.Closed("arm", "agent", 100, 2000)
	h.Closed("arm", "agent", 50, 1000)
	pg.Closed("crm", "psql", 10, 20)

	for _, tc := range []struct {
		name   string
		vec    *prometheus.CounterVec
		labels []string
		want   float64
	}{
		{"https deny", m.requests, []string{"arm", "deny", "no-rg-delete"}, 1},
		{"https not counted as statements", m.statements, []string{"arm", "deny", "no-rg-delete"}, 0},
		{"postgres deny", m.statements, []string{"crm", "deny", "no-drop"}, 1},
		{"postgres allow", m.statements, []string{"crm", "allow", "mask-email"}, 2},
		{"postgres not counted as requests", m.requests, []string{"crm", "allow", "mask-email"}, 0},
		{"https path", m.masked, []string{"https", "path"}, 2},
		{"https detector", m.masked, []string{"https", "jwt"}, 1},
		{"postgres column", m.masked, []string{"postgres", "column"}, 3},
		{"postgres detector", m.masked, []string{"postgres", "jwt"}, 1},
		{"https connections", m.sessions, []string{"https", "arm", "agent"}, 2},
		{"postgres connections", m.sessions, []string{"postgres", "crm", "psql"}, 1},
		{"https bytes from client", m.inspected, []string{"https", "arm", "from_client"}, 150},
		{"https bytes to client", m.inspected, []string{"https", "arm", "to_client"}, 3000},
		{"postgres bytes to client", m.inspected, []string{"postgres", "crm", "to_client"}, 20},
	} {
		if got := testutil.ToFloat64(tc.vec.WithLabelValues(tc.labels...)); got != tc.want {
			t.Errorf("%s: %v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}
