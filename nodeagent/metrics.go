// SPDX-License-Identifier: Apache-2.0

// Metrics and health: Prometheus metrics on a registry of the agent's own,
// and /healthz and /readyz that mean something.

package nodeagent

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/l7proxy"
)

// Readiness conditions: the agent is ready when all hold.
const (
	CondBPF       = "bpf"       // programs loaded, maps pinned
	CondListeners = "listeners" // the proxy listeners are up
	CondWorkloads = "workloads" // discovery has run once and attached what it found
)

// metrics are the agent's Prometheus metrics.
type metrics struct {
	reg         *prometheus.Registry
	connections *prometheus.CounterVec // by workload, outcome
	bytes       *prometheus.CounterVec // by workload, direction
}

// newMetrics makes the metrics of an interception layer: workloads counts
// the workloads it tells apart, and extra are its own collectors (the BPF
// Agent's kernel counters).
func newMetrics(workloads func() int, extra ...prometheus.Collector) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "interlock", Subsystem: "node", Name: "connections_total",
			Help: "Intercepted connections accepted by the proxy, by workload and outcome (passthrough, dial_error, handled).",
		}, []string{"workload", "outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "interlock", Subsystem: "node", Name: "passthrough_bytes_total",
			Help: "Bytes relayed uninspected (spliced), by workload and direction (from_client, to_client).",
		}, []string{"workload", "direction"}),
	}
	m.reg.MustRegister(m.connections, m.bytes,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "interlock", Subsystem: "node", Name: "workloads",
			Help: "Workloads the agent intercepts (in proxy mode: tells apart).",
		}, func() float64 { return float64(workloads()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(extra...)
	return m
}

// handled counts a connection served by the Handle hook.
func (m *metrics) handled(workload string) {
	m.connections.WithLabelValues(workload, "handled").Inc()
}

// passed counts a connection passed through uninspected, with what
// passthrough returned.
func (m *metrics) passed(workload string, st l7proxy.PassStats, err error) {
	outcome := "passthrough"
	if errors.Is(err, errDial) {
		outcome = "dial_error"
	}
	m.connections.WithLabelValues(workload, outcome).Inc()
	m.bytes.WithLabelValues(workload, "from_client").Add(float64(st.FromClient))
	m.bytes.WithLabelValues(workload, "to_client").Add(float64(st.ToClient))
}

// bpfCollector reads the kernel's counters and map occupancy at scrape
// time.
type bpfCollector struct {
	objs *bpf.Objects
}

var (
	bpfConnectsDesc = prometheus.NewDesc("interlock_node_bpf_connects_total",
		"TCP connects seen by the interception programs, by verdict.", []string{"verdict"}, nil)
	bpfMapDesc = prometheus.NewDesc("interlock_node_bpf_map_entries",
		"Live entries in each interception map.", []string{"map"}, nil)
)

func (c *bpfCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- bpfConnectsDesc
	ch <- bpfMapDesc
}

func (c *bpfCollector) Collect(ch chan<- prometheus.Metric) {
	if cs, err := c.objs.Counters(); err == nil {
		for _, v := range []struct {
			verdict string
			n       uint64
		}{
			{"redirected", cs.Redirected}, {"refused_not_ready", cs.RefusedNotReady},
			{"refused_no_workload", cs.RefusedNoWorkload}, {"failed_open", cs.FailedOpen},
			{"skipped", cs.Skipped}, {"map_update_error", cs.MapUpdateErrors},
		} {
			ch <- prometheus.MustNewConstMetric(bpfConnectsDesc, prometheus.CounterValue, float64(v.n), v.verdict)
		}
	}
	if ms, err := c.objs.MapSizes(); err == nil {
		for _, v := range []struct {
			name string
			n    int
		}{
			{"sock_orig", ms.SockOrig}, {"conn_orig", ms.ConnOrig}, {"workloads", ms.Workloads},
			{"intercept_ports", ms.InterceptPorts}, {"intercept_dsts", ms.InterceptDsts},
		} {
			ch <- prometheus.MustNewConstMetric(bpfMapDesc, prometheus.GaugeValue, float64(v.n), v.name)
		}
	}
}

// health tracks the readiness conditions.
type health struct {
	mu   sync.Mutex
	want []string        // conditions that must hold
	have map[string]bool // guarded by mu
}

func newHealth(want ...string) *health {
	return &health{want: want, have: map[string]bool{}}
}

// set marks a condition as holding or not.
func (h *health) set(cond string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.have[cond] = ok
}

// missing lists the conditions that do not hold.
func (h *health) missing() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.want {
		if !h.have[c] {
			out = append(out, c)
		}
	}
	return out
}

// monitor is an interception layer's metrics and readiness, served by
// HealthHandler: the Agent's and the ProxyAgent's. Its methods are safe
// for concurrent use.
type monitor struct {
	metrics *metrics
	health  *health
}

// Require adds a readiness condition that must be met with SetReady (a
// Node adds "policy": a policy bundle is loaded).
func (m *monitor) Require(cond string) {
	m.health.mu.Lock()
	defer m.health.mu.Unlock()
	if !slices.Contains(m.health.want, cond) {
		m.health.want = append(m.health.want, cond)
	}
}

// Ready reports whether every readiness condition holds.
func (m *monitor) Ready() bool { return len(m.health.missing()) == 0 }

// SetReady marks a readiness condition as holding or not.
func (m *monitor) SetReady(cond string, ok bool) { m.health.set(cond, ok) }

// Registry is the agent's Prometheus registry, for collectors of other
// node components (spool, policy, certificates).
func (m *monitor) Registry() *prometheus.Registry { return m.metrics.reg }

// HealthHandler serves /metrics, /healthz (the process serves) and
// /readyz (200 when every readiness condition holds, else 503 naming
// those that do not).
func (m *monitor) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if miss := m.health.missing(); len(miss) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %s\n", strings.Join(miss, ", "))
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}
