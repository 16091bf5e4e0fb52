// SPDX-License-Identifier: Apache-2.0

// interlock node: the node agent.

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/kube"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/workload"
)

// nodeFlags are the flags of `interlock node`.
type nodeFlags struct {
	spoolSync     time.Duration
	control       string
	controlCA     string
	controlName   string
	tokenFile     string
	stateDir      string
	nodeName      string
	mode          string
	metricsListen string
	connectListen string
	pgRoutes      []string
	pinDir        string
	ports         []uint
	intercept     []string
	skip          []string
	proxyPort     uint16
	workloads     []string
	units         []string
	failOpen      []string
	kubeNode      string
	pods          []string
	socket        string
	detachOnExit  bool
	drain         time.Duration
}

func newNode(g *globals, stdout io.Writer) *cobra.Command {
	f := &nodeFlags{}
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the node agent: intercept workloads' connections with eBPF and proxy them",
		Long: `Run the node agent. It attaches eBPF programs to each workload's cgroup
that redirect the workload's TCP connects to intercepted destinations
(by default ports 443 and 5432) to the node's proxy on loopback, and serves
those connections.

Interception stays pinned in bpffs when the agent stops, so a restart or
upgrade never lets a workload bypass the proxy: while no agent runs, its
intercepted connects fail at once (EPERM), unless the workload is
--fail-open. --detach-on-exit removes interception instead.

--mode=proxy is the explicit fallback where eBPF is not available (not
root, an old kernel, no cgroup v2): workloads are pointed at the node with
HTTPS_PROXY and at local PostgreSQL listeners (--pg), and with --control
the same enforcement stands behind them (each connection's workload is
told from /proc: --workload and --unit name them). Transparent mode never
falls back to it by itself: it refuses to start and says what the kernel
lacks.

Workloads are cgroup v2 directories (--workload NAME=CGROUP, the cgroup
absolute or relative to the cgroup2 mount), systemd units (--unit
NAME=UNIT), commands started with 'interlock exec --workload NAME -- CMD...',
and, on Kubernetes (--kube-node), the pods of this node that --pods selects:
NAMESPACE or NAMESPACE:KEY=VALUE,KEY=VALUE (labels). A pod's proxy listens
inside the pod's own network namespace.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			cfg.Logger = g.log
			switch f.mode {
			case "transparent":
			case "proxy":
				return f.runProxyMode(cmd.Context(), cfg, stdout)
			default:
				return usageErrorf("--mode %q: want transparent or proxy", f.mode)
			}
			var (
				a   *nodeagent.Agent
				run func(context.Context) error
			)
			if f.control != "" {
				nc, err := f.nodeConfig(cfg)
				if err != nil {
					return err
				}
				n, err := nodeagent.NewNode(cmd.Context(), nc)
				if err != nil {
					return err
				}
				a, run = n.Agent, n.Run
				fmt.Fprintf(stdout, "interlock node: enrolled with %s, state in %s; workloads must trust %s\n",
					f.control, f.stateDir, filepath.Join(f.stateDir, nodeagent.WorkloadBundleFile))
			} else {
				if a, err = nodeagent.New(cfg); err != nil {
					return err
				}
				run = a.Run
				fmt.Fprintln(stdout, "interlock node: no --control: intercepting and passing through, inspecting nothing")
			}
			fmt.Fprintf(stdout, "interlock node: intercepting ports %v, proxy on 127.0.0.1:%d and [::1]:%d, local API %s\n",
				f.ports, cfg.ProxyPort, cfg.ProxyPort, f.socket)
			eg, ctx := errgroup.WithContext(cmd.Context())
			eg.Go(func() error { return run(ctx) })
			eg.Go(func() error { return a.ServeAPI(ctx, f.socket) })
			if f.metricsListen != "" {
				eg.Go(func() error { return serveHTTP(ctx, f.metricsListen, a.HealthHandler()) })
			}
			return eg.Wait()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.control, "control", "", "the control plane's host:port; without it the node only intercepts and passes through")
	fl.StringVar(&f.controlCA, "control-ca", "", "PEM file that verifies the control plane, needed to enrol (the control plane's pki/ca.crt)")
	fl.StringVar(&f.controlName, "control-server-name", "", "name in the control plane's certificate (default: the host of --control)")
	fl.StringVar(&f.tokenFile, "bootstrap-token-file", "", "file holding the one-time bootstrap token (interlock control token), needed to enrol")
	fl.DurationVar(&f.spoolSync, "spool-sync-interval", nodeagent.DefaultSpoolSyncInterval, "how far behind the recording spool's fsyncs may run (0: fsync every event before the proxy goes on; a crash of the agent loses nothing either way, a power loss at most this much)")
	fl.StringVar(&f.stateDir, "state-dir", "/var/lib/interlock/node", "the node's identity, policy cache and session spool")
	fl.StringVar(&f.nodeName, "node-name", "", "this node's name as people see it (default: the host name)")
	fl.StringVar(&f.mode, "mode", "transparent", "transparent (eBPF redirects workloads' connections) or proxy (workloads use HTTPS_PROXY and PostgreSQL listeners; for machines without eBPF)")
	fl.StringVar(&f.metricsListen, "metrics-listen", "127.0.0.1:9464", "address of /metrics, /healthz and /readyz (empty: off)")
	fl.StringVar(&f.connectListen, "connect-listen", nodeagent.DefaultConnectListen, "proxy mode: the HTTP CONNECT listener (HTTPS_PROXY=http://ADDR)")
	fl.StringArrayVar(&f.pgRoutes, "pg", nil, "proxy mode: a PostgreSQL listener, LISTEN=UPSTREAM (e.g. 127.0.0.1:15432=orders.postgres.database.azure.com:5432; repeatable)")
	fl.StringVar(&f.pinDir, "pin-dir", bpf.DefaultPinDir, "bpffs directory where interception is pinned")
	fl.UintSliceVar(&f.ports, "ports", []uint{443, 5432}, "destination ports to intercept")
	fl.StringSliceVar(&f.intercept, "intercept", nil, "destination prefixes to intercept (default: all)")
	fl.StringSliceVar(&f.skip, "skip", nil, "destination prefixes never to intercept")
	fl.Uint16Var(&f.proxyPort, "proxy-port", nodeagent.DefaultProxyPort, "loopback port of the proxy listeners")
	fl.StringArrayVar(&f.workloads, "workload", nil, "a VM workload to intercept, NAME=CGROUP (repeatable)")
	fl.StringArrayVar(&f.units, "unit", nil, "a VM workload to intercept by systemd unit, NAME=UNIT (repeatable)")
	fl.StringVar(&f.kubeNode, "kube-node", "", "this node's Kubernetes name: discover pods through the API (in-cluster credentials)")
	fl.StringArrayVar(&f.pods, "pods", nil, "pods to intercept, NAMESPACE[:KEY=VALUE,...] (repeatable; needs --kube-node)")
	fl.StringArrayVar(&f.failOpen, "fail-open", nil, "a workload NAME whose connections pass uninspected while the proxy is down (repeatable; default is fail closed)")
	fl.StringVar(&f.socket, "socket", nodeagent.DefaultSocket, "unix socket of the local API (used by interlock exec)")
	fl.BoolVar(&f.detachOnExit, "detach-on-exit", false, "remove interception when the agent stops (default: keep it pinned, failing closed)")
	fl.DurationVar(&f.drain, "drain-timeout", nodeagent.DefaultDrainTimeout, "how long connections in flight may finish when stopping")
	return cmd
}

// config turns the flags into a nodeagent.Config, or a usage error.
func (f *nodeFlags) config() (nodeagent.Config, error) {
	cfg := nodeagent.Config{
		BPF:          bpf.Config{PinDir: f.pinDir},
		ProxyPort:    f.proxyPort,
		DetachOnExit: f.detachOnExit,
		DrainTimeout: f.drain,
	}
	for _, p := range f.ports {
		if p == 0 || p > 65535 {
			return cfg, usageErrorf("--ports: %d is not a port", p)
		}
		cfg.BPF.Ports = append(cfg.BPF.Ports, uint16(p))
	}
	var err error
	if cfg.BPF.Intercept, err = parsePrefixes("--intercept", f.intercept); err != nil {
		return cfg, err
	}
	if cfg.BPF.Skip, err = parsePrefixes("--skip", f.skip); err != nil {
		return cfg, err
	}
	cfg.FailOpen = f.failOpen
	for _, w := range f.workloads {
		name, cg, ok := strings.Cut(w, "=")
		if !ok || name == "" || cg == "" {
			return cfg, usageErrorf("--workload %q: want NAME=CGROUP", w)
		}
		cfg.Discovery.VMs = append(cfg.Discovery.VMs, workload.VM{Name: name, Cgroup: cg})
	}
	for _, u := range f.units {
		name, unit, ok := strings.Cut(u, "=")
		if !ok || name == "" || unit == "" {
			return cfg, usageErrorf("--unit %q: want NAME=UNIT", u)
		}
		cfg.Discovery.VMs = append(cfg.Discovery.VMs, workload.VM{Name: name, Unit: unit})
	}
	if len(f.pods) > 0 && f.kubeNode == "" {
		return cfg, usageErrorf("--pods needs --kube-node")
	}
	for _, p := range f.pods {
		sel, err := parsePodSelector(p)
		if err != nil {
			return cfg, err
		}
		cfg.Discovery.Selectors = append(cfg.Discovery.Selectors, sel)
	}
	if f.kubeNode != "" {
		src, err := kube.NewInCluster(f.kubeNode)
		if err != nil {
			return cfg, err
		}
		cfg.Discovery.Pods = src
		cfg.Discovery.NodeName = f.kubeNode
	}
	return cfg, nil
}

// parsePodSelector parses NAMESPACE[:KEY=VALUE,...].
func parsePodSelector(s string) (workload.Selector, error) {
	ns, labels, _ := strings.Cut(s, ":")
	sel := workload.Selector{Namespace: ns}
	if labels != "" {
		sel.MatchLabels = map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return sel, usageErrorf("--pods %q: labels are KEY=VALUE,KEY=VALUE", s)
			}
			sel.MatchLabels[k] = v
		}
	}
	if err := sel.Validate(); err != nil {
		return sel, usageErrorf("--pods %q: %v", s, err)
	}
	return sel, nil
}

func parsePrefixes(flag string, ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, usageErrorf("%s %q: %v", flag, s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// runProxyMode runs the node agent in proxy mode: with --control, a node
// that enforces behind the listeners exactly as in transparent mode;
// without, listeners that pass everything through.
func (f *nodeFlags) runProxyMode(ctx context.Context, cfg nodeagent.Config, stdout io.Writer) error {
	pc := nodeagent.ProxyConfig{
		ConnectListen: f.connectListen,
		Ports:         cfg.BPF.Ports,
		Discovery:     cfg.Discovery,
		DrainTimeout:  cfg.DrainTimeout,
		Logger:        cfg.Logger,
	}
	for _, r := range f.pgRoutes {
		listen, upstream, ok := strings.Cut(r, "=")
		if !ok || listen == "" || upstream == "" {
			return usageErrorf("--pg %q: want LISTEN=UPSTREAM", r)
		}
		pc.PG = append(pc.PG, nodeagent.PGRoute{Listen: listen, Upstream: upstream})
	}
	var (
		p      *nodeagent.ProxyAgent
		health http.Handler
		run    func(context.Context) error
	)
	if f.control != "" {
		nc, err := f.nodeConfig(cfg)
		if err != nil {
			return err
		}
		nc.Proxy = &pc
		n, err := nodeagent.NewNode(ctx, nc)
		if err != nil {
			return err
		}
		p, health, run = n.Proxy, n.HealthHandler(), n.Run
		fmt.Fprintf(stdout, "interlock node (proxy mode): enrolled with %s, state in %s; workloads must trust %s\n",
			f.control, f.stateDir, filepath.Join(f.stateDir, nodeagent.WorkloadBundleFile))
	} else {
		var err error
		if p, err = nodeagent.NewProxyMode(pc); err != nil {
			return err
		}
		health, run = p.HealthHandler(), p.Run
		fmt.Fprintln(stdout, "interlock node (proxy mode): no --control: passing through, inspecting nothing")
	}
	fmt.Fprintf(stdout, "interlock node (proxy mode): set HTTPS_PROXY=http://%s for workloads\n", p.ConnectAddr())
	for i, a := range p.PGAddrs() {
		fmt.Fprintf(stdout, "interlock node (proxy mode): PostgreSQL %s at %s\n", pc.PG[i].Upstream, a)
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return run(ctx) })
	if f.metricsListen != "" {
		eg.Go(func() error { return serveHTTP(ctx, f.metricsListen, health) })
	}
	return eg.Wait()
}

// serveHTTP serves h on addr until ctx is done.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// nodeConfig is the configuration of a node that works with a control
// plane.
func (f *nodeFlags) nodeConfig(agent nodeagent.Config) (nodeagent.NodeConfig, error) {
	nc := nodeagent.NodeConfig{
		Agent:    agent,
		StateDir: f.stateDir,
		Control:  controlclient.Config{Server: f.control, ServerName: f.controlName, Logger: agent.Logger},
		Enroll:   controlclient.EnrollConfig{NodeName: f.nodeName},
		Spool:    spool.Options{SyncInterval: f.spoolSync},
	}
	if nc.Enroll.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return nc, fmt.Errorf("node name: %w", err)
		}
		nc.Enroll.NodeName = h
	}
	if _, err := controlclient.LoadIdentity(f.stateDir); err == nil {
		return nc, nil // enrolled before: no token or CA needed
	}
	if f.controlCA == "" || f.tokenFile == "" {
		return nc, usageErrorf("this node is not enrolled yet (%s holds no identity): give --control-ca and --bootstrap-token-file", f.stateDir)
	}
	var err error
	if nc.Enroll.ControlCA, err = os.ReadFile(f.controlCA); err != nil {
		return nc, fmt.Errorf("--control-ca: %w", err)
	}
	tok, err := os.ReadFile(f.tokenFile)
	if err != nil {
		return nc, fmt.Errorf("--bootstrap-token-file: %w", err)
	}
	nc.Enroll.BootstrapToken = strings.TrimSpace(string(tok))
	return nc, nil
}
