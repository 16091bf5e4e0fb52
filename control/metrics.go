// SPDX-License-Identifier: Apache-2.0

// The control plane's metrics and health: Prometheus on a registry of its
// own, read from the store at scrape time, and /healthz and /readyz.

package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// scrapeTimeout bounds the store queries of one scrape.
const scrapeTimeout = 5 * time.Second

var (
	nodesDesc     = prometheus.NewDesc("interlock_control_nodes", "Enrolled nodes.", nil, nil)
	nodeSeenDesc  = prometheus.NewDesc("interlock_control_node_last_seen_seconds", "Seconds since each node was last heard from.", []string{"node"}, nil)
	nodePolicy    = prometheus.NewDesc("interlock_control_node_policy_version", "Policy version each node last reported enforcing.", []string{"node"}, nil)
	pendingDesc   = prometheus.NewDesc("interlock_control_approvals_pending", "Approval requests waiting for a decision.", nil, nil)
	policyVerDesc = prometheus.NewDesc("interlock_control_policy_version", "Version of the current policy bundle (0: none pushed).", nil, nil)
	scrapeErrDesc = prometheus.NewDesc("interlock_control_scrape_errors", "Store queries that failed during this scrape.", nil, nil)
)

// storeCollector reads the control plane's state from the store.
type storeCollector struct{ st Store }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nodesDesc, nodeSeenDesc, nodePolicy, pendingDesc, policyVerDesc, scrapeErrDesc} {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	errs := 0
	now := time.Now()
	if nodes, err := c.st.Nodes(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(len(nodes)))
		for _, n := range nodes {
			if !n.LastSeen.IsZero() {
				ch <- prometheus.MustNewConstMetric(nodeSeenDesc, prometheus.GaugeValue, now.Sub(n.LastSeen).Seconds(), n.Name)
			}
			ch <- prometheus.MustNewConstMetric(nodePolicy, prometheus.GaugeValue, float64(n.PolicyVersion), n.Name)
		}
	} else {
		errs++
	}
	pending := 0
	cursor := ""
	for {
		page, next, err := c.st.Approvals(ctx, store.ApprovalQuery{State: interlockv1.ApprovalState_APPROVAL_STATE_PENDING, Limit: 500, Cursor: cursor})
		if err != nil {
			errs++
			break
		}
		pending += len(page)
		if cursor = next; cursor == "" {
			ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(pending))
			break
		}
	}
	if b, err := c.st.Bundle(ctx, 0); err == nil {
		ch <- prometheus.MustNewConstMetric(policyVerDesc, prometheus.GaugeValue, float64(b.GetVersion()))
	} else if errors.Is(err, store.ErrNotFound) {
		ch <- prometheus.MustNewConstMetric(policyVerDesc, prometheus.GaugeValue, 0)
	} else {
		errs++
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, float64(errs))
}

// HealthHandler serves /metrics, /healthz (the process serves) and
// /readyz (the store answers).
func (s *Server) HealthHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(storeCollector{st: s.cfg.Store}, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), scrapeTimeout)
		defer cancel()
		if _, err := s.cfg.Store.Nodes(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: store: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}
