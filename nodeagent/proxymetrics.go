// SPDX-License-Identifier: Apache-2.0

// The inspecting proxy's metrics and the node's recording and policy
// gauges, registered on the agent's registry by NewNode.

package nodeagent

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// proxyMetrics implements https.Observer with Prometheus metrics.
type proxyMetrics struct {
	requests  *prometheus.CounterVec   // by target, outcome, rule
	masked    *prometheus.CounterVec   // by detector or rule
	upstream  *prometheus.HistogramVec // by target
	added     *prometheus.HistogramVec // by target
	approvals *prometheus.HistogramVec // by state
}

// latencyBuckets span 50 µs to 10 s.
var latencyBuckets = prometheus.ExponentialBuckets(50e-6, 2.5, 14)

func newProxyMetrics(reg prometheus.Registerer) *proxyMetrics {
	m := &proxyMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "requests_total",
			Help: "Inspected requests by target, final outcome (allow, deny, approve) and deciding rule (empty for the default action or a refusal before policy).",
		}, []string{"target", "outcome", "rule"}),
		masked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "masked_values_total",
			Help: "Values masked in responses, by detector (or path for JSON path rules).",
		}, []string{"detector"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "upstream_seconds",
			Help: "Time from a request sent upstream to its response headers.", Buckets: latencyBuckets,
		}, []string{"target"}),
		added: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "added_seconds",
			Help: "Time the proxy added to a request (parsing, identity, policy, masking; approval holds excluded).", Buckets: latencyBuckets,
		}, []string{"target"}),
		approvals: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "approval_wait_seconds",
			Help:    "How long requests were held for approval, by how the approval stood when the hold ended.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}, []string{"state"}),
	}
	reg.MustRegister(m.requests, m.masked, m.upstream, m.added, m.approvals)
	return m
}

func (m *proxyMetrics) Decision(target, outcome, rule string) {
	m.requests.WithLabelValues(target, strings.ToLower(strings.TrimPrefix(outcome, "ACTION_")), rule).Inc()
}

func (m *proxyMetrics) Masked(applied []*interlockv1.MaskApplied) {
	for _, a := range applied {
		d := a.GetDetector()
		if d == "" {
			d = "path"
		}
		m.masked.WithLabelValues(d).Add(float64(a.GetCount()))
	}
}

func (m *proxyMetrics) Latency(target string, upstream, added time.Duration) {
	m.upstream.WithLabelValues(target).Observe(upstream.Seconds())
	m.added.WithLabelValues(target).Observe(added.Seconds())
}

func (m *proxyMetrics) ApprovalWait(state interlockv1.ApprovalState, held time.Duration) {
	m.approvals.WithLabelValues(strings.ToLower(strings.TrimPrefix(state.String(), "APPROVAL_STATE_"))).Observe(held.Seconds())
}

// nodeCollector reads the spool, the policy version and certificate
// expiry at scrape time.
type nodeCollector struct {
	spool   *spool.Spool
	policy  func() uint64
	expires map[string]time.Time // certificate → NotAfter
}

var (
	spoolPendingDesc = prometheus.NewDesc("interlock_node_spool_pending_events", "Recorded events not yet acknowledged by the control plane.", nil, nil)
	spoolBytesDesc   = prometheus.NewDesc("interlock_node_spool_disk_bytes", "Size of the session spool on disk.", nil, nil)
	spoolLagDesc     = prometheus.NewDesc("interlock_node_spool_upload_lag_seconds", "Age of the oldest recorded event not yet acknowledged (0 when none).", nil, nil)
	spoolRejectDesc  = prometheus.NewDesc("interlock_node_spool_rejected_total", "Appends refused because the spool was full (new sessions refused: fail closed).", nil, nil)
	policyDesc       = prometheus.NewDesc("interlock_node_policy_version", "Version of the policy bundle the node enforces (0: none).", nil, nil)
	certDesc         = prometheus.NewDesc("interlock_node_certificate_expiry_seconds", "Seconds until a node certificate expires.", []string{"certificate"}, nil)
)

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{spoolPendingDesc, spoolBytesDesc, spoolLagDesc, spoolRejectDesc, policyDesc, certDesc} {
		ch <- d
	}
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.spool.Stats()
	now := time.Now()
	ch <- prometheus.MustNewConstMetric(spoolPendingDesc, prometheus.GaugeValue, float64(st.PendingEvents))
	ch <- prometheus.MustNewConstMetric(spoolBytesDesc, prometheus.GaugeValue, float64(st.DiskBytes))
	lag := 0.0
	if !st.OldestUnacked.IsZero() {
		lag = now.Sub(st.OldestUnacked).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(spoolLagDesc, prometheus.GaugeValue, lag)
	ch <- prometheus.MustNewConstMetric(spoolRejectDesc, prometheus.CounterValue, float64(st.Rejected))
	ch <- prometheus.MustNewConstMetric(policyDesc, prometheus.GaugeValue, float64(c.policy()))
	for name, t := range c.expires {
		ch <- prometheus.MustNewConstMetric(certDesc, prometheus.GaugeValue, t.Sub(now).Seconds(), name)
	}
}
