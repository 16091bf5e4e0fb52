// SPDX-License-Identifier: Apache-2.0

// Node: the whole node runtime — enrolment with the control plane, policy,
// approvals, the session spool and its upload, and the inspecting proxy
// behind the interception (the BPF Agent, or proxy mode's ProxyAgent).

package nodeagent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/https"
	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/postgres"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/tlsterm"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/upload"
)

// CondPolicy is the readiness condition "a policy bundle is enforced".
const CondPolicy = "policy"

// DefaultSpoolSyncInterval is how far behind the session spool's fsyncs
// may run on a node (spool.Options.SyncInterval). A request's or
// statement's decision is written before anything goes upstream, and a
// response or result with the session's next decision, or record.SendDelay
// (5 ms) after it left if no decision comes sooner. So a crash of the node
// agent loses at most the answers of the last 5 ms, which the workloads
// already had, and a power loss at most this much more.
const DefaultSpoolSyncInterval = 20 * time.Millisecond

// NodeConfig configures a full node. It must not change once passed to
// NewNode.
type NodeConfig struct {
	// Agent configures interception; its Handle and CABundle are set by
	// the node. Ignored when Proxy is set.
	Agent Config
	// Proxy, when not nil, runs the node in proxy mode instead of with BPF
	// interception: workloads reach its listeners with HTTPS_PROXY and
	// PostgreSQL routes, and the same enforcement stands behind them. Its
	// Handle is set by the node, and its Logger is the node's.
	Proxy *ProxyConfig
	// StateDir holds the node's identity, policy cache, spool and the
	// workloads' CA bundle.
	StateDir string
	// Control says where the control plane is; Identity is filled in.
	Control controlclient.Config
	// Enroll is used when StateDir holds no identity yet.
	Enroll controlclient.EnrollConfig
	// UpstreamRoots verify Azure's certificates; nil means the system
	// roots.
	UpstreamRoots *x509.CertPool
	// HTTPClient fetches token signing keys; nil means a default client.
	HTTPClient *http.Client
	// Azure configures the node's own Azure credentials (inject targets).
	Azure identity.AzureOptions
	// Spool configures the session spool.
	Spool spool.Options
}

// interceptor is what a Node needs from its interception layer (the BPF
// Agent, or proxy mode's ProxyAgent), which hands every connection to
// Node.Handle: Run serves until ctx is done; the readiness conditions and
// the metrics registry are shared with the node's components.
type interceptor interface {
	Run(ctx context.Context) error
	Require(cond string)
	SetReady(cond string, ok bool)
	Ready() bool
	Registry() *prometheus.Registry
	HealthHandler() http.Handler
}

// Node is a running node: an interception layer plus everything the
// inspecting proxy needs.
type Node struct {
	cfg NodeConfig
	// Agent is the BPF interception; nil in proxy mode.
	Agent *Agent
	// Proxy is proxy mode's listeners; nil unless NodeConfig.Proxy is set.
	Proxy    *ProxyAgent
	icept    interceptor // Agent or Proxy
	log      *slog.Logger
	client   *controlclient.Client
	policy   *controlclient.PolicyWatcher
	appr     *controlclient.Approvals
	spool    *spool.Spool
	recorder *record.Recorder
	up       *upload.Uploader
	https    *https.Handler
	postgres *postgres.Handler
	current  atomic.Pointer[policy.Bundle]

	tokMu  sync.Mutex
	tokens map[string]identity.TokenSource // by target name; guarded by tokMu
}

// NewNode enrols (once), connects to the control plane, opens the spool,
// and prepares the agent and the proxy. Run serves.
func NewNode(ctx context.Context, cfg NodeConfig) (_ *Node, err error) {
	if cfg.StateDir == "" {
		return nil, errors.New("nodeagent: node needs a state directory")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("nodeagent: state dir: %w", err)
	}
	log := cfg.Agent.Logger
	if cfg.Proxy != nil {
		log = cfg.Proxy.Logger
	}
	if log == nil {
		log = slog.Default()
	}
	if cfg.Control.Logger == nil {
		cfg.Control.Logger = log
	}
	cfg.Enroll.StateDir = cfg.StateDir
	id, err := controlclient.Enroll(ctx, cfg.Control, cfg.Enroll)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: %w", err)
	}
	cfg.Control.Identity = id
	n := &Node{cfg: cfg, log: log, tokens: map[string]identity.TokenSource{}}
	var closers []func()
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	if n.client, err = controlclient.Dial(cfg.Control); err != nil {
		return nil, fmt.Errorf("nodeagent: %w", err)
	}
	closers = append(closers, func() { n.client.Close() })

	bundleFile, err := writeWorkloadBundle(cfg.StateDir, id.WorkloadCAPEM)
	if err != nil {
		return nil, err
	}
	if n.spool, err = spool.Open(filepath.Join(cfg.StateDir, "spool"), cfg.Spool); err != nil {
		return nil, fmt.Errorf("nodeagent: %w", err)
	}
	closers = append(closers, func() { n.spool.Close() })
	n.up = n.client.Uploader(n.spool, upload.Options{Logger: log})
	n.appr = controlclient.NewApprovals(n.client.Conn(), controlclient.ApprovalOptions{Logger: log})

	minter, err := tlsterm.NewMinter(tlsterm.MinterConfig{
		CA: tls.Certificate{Certificate: [][]byte{id.NodeCA.Raw}, PrivateKey: id.NodeCAKey, Leaf: id.NodeCA},
	})
	if err != nil {
		return nil, fmt.Errorf("nodeagent: leaf minter: %w", err)
	}
	if cfg.Proxy != nil {
		pc := *cfg.Proxy
		pc.Handle, pc.Admit, pc.Logger = n.Handle, n.admit, log
		if n.Proxy, err = NewProxyMode(pc); err != nil {
			return nil, err
		}
		closers = append(closers, n.Proxy.abandon)
		n.icept = n.Proxy
	} else {
		agentCfg := cfg.Agent
		agentCfg.CABundle = bundleFile
		agentCfg.Handle = n.Handle
		if n.Agent, err = New(agentCfg); err != nil {
			return nil, err
		}
		closers = append(closers, n.Agent.abandon)
		n.icept = n.Agent
	}
	n.icept.Require(CondPolicy)
	var policyVersion atomic.Uint64
	n.icept.Registry().MustRegister(&nodeCollector{
		spool:  n.spool,
		policy: policyVersion.Load,
		expires: map[string]time.Time{
			"client": id.ClientCert.Leaf.NotAfter, "node-ca": id.NodeCA.NotAfter,
		},
	})
	// The HTTPS and PostgreSQL handlers share every component: one leaf
	// minter, one upstream verification, one token verifier, one
	// credential source, one approver, one recorder, one set of metrics.
	// Each gets its own server TLS configuration from the minter: the
	// HTTPS handler's http.Server writes to its own (HTTP/2 setup) while
	// the PostgreSQL handler would be cloning a shared one.
	var (
		upstreamTLS = func(sni string) *tls.Config {
			return tlsterm.Upstream(sni, tlsterm.UpstreamOptions{RootCAs: cfg.UpstreamRoots})
		}
		verify    = https.Verifiers(identity.Options{HTTPClient: cfg.HTTPClient})
		approvals = &approver{node: id.NodeName, a: n.appr}
		recorder  = record.New(n.spool, record.Options{})
		pass      = func(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
			_, _ = passthrough(ctx, log, c, dial)
		}
		metrics = newProxyMetrics(n.icept.Registry())
	)
	n.recorder = recorder
	if n.https, err = https.New(https.Config{
		Node:        id.NodeName,
		Policy:      n.current.Load,
		ServerTLS:   minter.ServerConfig(),
		UpstreamTLS: upstreamTLS,
		Identify:    verify,
		Operation:   https.AzureOperations,
		Credentials: n.credential,
		Mask:        https.Masks(mask.NewPool()),
		Approvals:   approvals,
		Recorder:    recorder,
		Passthrough: pass,
		Observer:    metrics.observer(protoHTTPS),
		Logger:      log,
	}); err != nil {
		return nil, err
	}
	closers = append(closers, func() { n.https.Close() })
	if n.postgres, err = postgres.New(postgres.Config{
		Node:        id.NodeName,
		Policy:      n.current.Load,
		ServerTLS:   minter.ServerConfig(),
		UpstreamTLS: upstreamTLS,
		Identify:    verify,
		Credentials: n.credential,
		MaskPool:    mask.NewPool(),
		Approvals:   approvals,
		Recorder:    recorder,
		Passthrough: pass,
		Observer:    metrics.observer(protoPostgres),
		Logger:      log,
	}); err != nil {
		return nil, err
	}
	if n.policy, err = controlclient.NewPolicyWatcher(n.client.Conn(), controlclient.PolicyOptions{
		CacheFile: filepath.Join(cfg.StateDir, controlclient.PolicyFile),
		Logger:    log,
		OnBundle: func(p controlclient.Policy) {
			n.current.Store(p.Bundle)
			policyVersion.Store(p.Version)
			n.icept.SetReady(CondPolicy, true)
			n.log.Info("enforcing policy", "version", p.Version, "cached", p.Cached)
		},
	}); err != nil {
		return nil, fmt.Errorf("nodeagent: %w", err)
	}
	return n, nil
}

// Run serves until ctx is done.
func (n *Node) Run(ctx context.Context) error {
	defer n.client.Close()
	defer n.spool.Close()
	defer n.https.Close()
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return n.icept.Run(ctx) })
	eg.Go(func() error { return ignoreCanceled(n.policy.Run(ctx)) })
	eg.Go(func() error { return ignoreCanceled(n.appr.Run(ctx)) })
	eg.Go(func() error { return ignoreCanceled(n.up.Run(ctx)) })
	return eg.Wait()
}

// Ready reports whether the node is ready: its interception layer's
// conditions hold (BPF mode: programs loaded, listeners up, workloads
// discovered; proxy mode: listeners up) and a policy is enforced.
func (n *Node) Ready() bool { return n.icept.Ready() }

// HealthHandler serves the node's /metrics, /healthz and /readyz (see
// Agent.HealthHandler).
func (n *Node) HealthHandler() http.Handler { return n.icept.HealthHandler() }

// OpenSessions returns how many inspected connections are open (their
// sessions not yet closed).
func (n *Node) OpenSessions() int64 { return n.recorder.OpenSessions() }

// Flush seals and fsyncs every event recorded so far and returns once the
// control plane has acknowledged all of them (or ctx ends): what a
// session's events said by then is searchable there.
func (n *Node) Flush(ctx context.Context) error {
	if err := n.spool.Sync(ctx); err != nil {
		return fmt.Errorf("nodeagent: flush: %w", err)
	}
	for {
		st := n.spool.Stats()
		if st.PendingEvents == 0 && st.PendingChunks == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodeagent: flush: %d events not yet acknowledged: %w", st.PendingEvents, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// sniffTimeout bounds the wait for a client's first bytes on ports other
// than PostgreSQL's; it is the HTTPS handler's own wait for a ClientHello.
const sniffTimeout = https.DefaultPeekTimeout

// errNoPolicy refuses what arrives before the node has a policy.
var errNoPolicy = errors.New("interlock: this node has no policy yet, so nothing can be decided: refused (fail closed)")

// admit says whether the node can decide anything yet.
func (n *Node) admit() error {
	if n.current.Load() == nil {
		return errNoPolicy
	}
	return nil
}

// Handle routes an intercepted connection to the handler of its protocol,
// each of which passes non-targets through: connections to port 5432 and
// connections that start like a PostgreSQL client (an SSLRequest, a
// startup packet) go to the PostgreSQL handler, the rest to the HTTPS one.
// A client that sends nothing passes through. It serves proxy mode's
// connections as well as the agent's (ProxyConfig.Handle).
func (n *Node) Handle(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
	if n.admit() != nil {
		// No policy yet: nothing can be decided; refuse (fail closed).
		// (Proxy mode's CONNECT said why; a redirected connection has no
		// protocol to say it in before its handler knows which it is.)
		c.Close()
		return
	}
	if c.Original.Dst.Port() == pgPort {
		n.postgres.Serve(ctx, c, dial)
		return
	}
	pg, err := sniffPostgres(c, sniffTimeout)
	switch {
	case err != nil:
		n.log.Debug("nothing to inspect: passing through", "workload", c.Workload.Name, "dst", c.Original.Dst, "err", err)
		_, _ = passthrough(ctx, n.log, c, dial)
	case pg:
		n.postgres.Serve(ctx, c, dial)
	default:
		n.https.Serve(ctx, c, dial)
	}
}

// credential returns the node's token for host, from the target's Azure
// credential.
func (n *Node) credential(ctx context.Context, t *policy.Target, host string) (string, error) {
	scope, ok := identity.ScopeForHost(host)
	if !ok {
		return "", fmt.Errorf("no token scope is known for %s", host)
	}
	n.tokMu.Lock()
	ts, ok := n.tokens[t.Name]
	if !ok {
		var err error
		ts, err = identity.NewAzureTokenSource(t.Credential.Azure, n.cfg.Azure)
		if err != nil {
			n.tokMu.Unlock()
			return "", err
		}
		n.tokens[t.Name] = ts
	}
	n.tokMu.Unlock()
	tok, _, err := ts.Token(ctx, scope)
	return tok, err
}

// WorkloadBundleFile is the CA bundle workloads are pointed at: the
// workload root, for what the node terminates, followed by the system's
// roots, for what it passes through untouched.
const WorkloadBundleFile = "workload-bundle.pem"

// systemRoots are where Debian, Ubuntu, Fedora and Alpine keep the system
// CA bundle.
var systemRoots = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"}

func writeWorkloadBundle(dir string, workloadCA []byte) (string, error) {
	b := append([]byte{}, workloadCA...)
	for _, f := range systemRoots {
		if sys, err := os.ReadFile(f); err == nil {
			b = append(append(b, '\n'), sys...)
			break
		}
	}
	path := filepath.Join(dir, WorkloadBundleFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", fmt.Errorf("nodeagent: workload CA bundle: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("nodeagent: workload CA bundle: %w", err)
	}
	return path, nil
}
