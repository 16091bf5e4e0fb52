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

// proxyMetrics are the inspecting proxy's Prometheus metrics; observer
// gives each protocol handler its view of them.
type proxyMetrics struct {
	requests   *prometheus.CounterVec   // HTTPS requests by target, outcome, rule
	statements *prometheus.CounterVec   // PostgreSQL statements by target, outcome, rule
	masked     *prometheus.CounterVec   // by protocol, and detector or kind of rule
	upstream   *prometheus.HistogramVec // by target
	added      *prometheus.HistogramVec // by target
	approvals  *prometheus.HistogramVec // by state
	sessions   *prometheus.CounterVec   // inspected connections by protocol, target, workload
	inspected  *prometheus.CounterVec   // their bytes by protocol, target, direction
}

// Protocols of the observers, as the masked_values_total label has them.
const (
	protoHTTPS    = "https"
	protoPostgres = "postgres"
)

// latencyBuckets span 50 µs to 10 s.
var latencyBuckets = prometheus.ExponentialBuckets(50e-6, 2.5, 14)

func newProxyMetrics(reg prometheus.Registerer) *proxyMetrics {
	m := &proxyMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "requests_total",
			Help: "Inspected requests by target, final outcome (allow, deny, approve) and deciding rule (empty for the default action or a refusal before policy).",
		}, []string{"target", "outcome", "rule"}),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "statements_total",
			Help: "Inspected PostgreSQL statements (and refused logins, with an empty rule) by target, final outcome (allow, deny, approve) and deciding rule (empty for the default action or a refusal before policy).",
		}, []string{"target", "outcome", "rule"}),
		masked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "interlock", Subsystem: "proxy", Name: "masked_values_total",
			Help: "Values masked in responses and results, by protocol (https, postgres) and detector (or path for JSON path rules, column for column rules).",
		}, []string{"protocol", "detector"}),
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
	m.sessions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "interlock", Subsystem: "proxy", Name: "connections_total",
		Help: "Inspected connections (recorded sessions), counted when they close, by protocol, target and workload. interlock_node_connections_total counts every intercepted connection, passed through or not.",
	}, []string{"protocol", "target", "workload"})
	m.inspected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "interlock", Subsystem: "proxy", Name: "inspected_bytes_total",
		Help: "Bytes of inspected connections (decrypted payload), by protocol, target and direction (from_client, to_client); interlock_node_passthrough_bytes_total counts the uninspected ones.",
	}, []string{"protocol", "target", "direction"})
	reg.MustRegister(m.requests, m.statements, m.masked, m.upstream, m.added, m.approvals, m.sessions, m.inspected)
	return m
}

// observer is the https.Observer (and postgres.Observer, the same
// interface) of the protocol's handler: decisions count as requests
// (https) or statements (postgres).
func (m *proxyMetrics) observer(protocol string) *protoObserver {
	decisions := m.requests
	if protocol == protoPostgres {
		decisions = m.statements
	}
	return &protoObserver{m: m, protocol: protocol, decisions: decisions}
}

// protoObserver counts one protocol handler's observations.
type protoObserver struct {
	m         *proxyMetrics
	protocol  string
	decisions *prometheus.CounterVec
}

func (o *protoObserver) Decision(target, outcome, rule string) {
	o.decisions.WithLabelValues(target, strings.ToLower(strings.TrimPrefix(outcome, "ACTION_")), rule).Inc()
}

func (o *protoObserver) Masked(applied []*interlockv1.MaskApplied) {
	for _, a := range applied {
		d := a.GetDetector()
		switch {
		case d != "":
		case a.GetColumn() != "":
			d = "column"
		default:
			d = "path"
		}
		o.m.masked.WithLabelValues(o.protocol, d).Add(float64(a.GetCount()))
	}
}

func (o *protoObserver) Latency(target string, upstream, added time.Duration) {
	o.m.upstream.WithLabelValues(target).Observe(upstream.Seconds())
	o.m.added.WithLabelValues(target).Observe(added.Seconds())
}

func (o *protoObserver) ApprovalWait(state interlockv1.ApprovalState, held time.Duration) {
	o.m.approvals.WithLabelValues(strings.ToLower(strings.TrimPrefix(state.String(), "APPROVAL_STATE_"))).Observe(held.Seconds())
}

func (o *protoObserver) Closed(target, workload string, fromClient, toClient int64) {
	o.m.sessions.WithLabelValues(o.protocol, target, workload).Inc()
	o.m.inspected.WithLabelValues(o.protocol, target, "from_client").Add(float64(fromClient))
	o.m.inspected.WithLabelValues(o.protocol, target, "to_client").Add(float64(toClient))
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
