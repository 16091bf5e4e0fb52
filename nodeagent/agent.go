// SPDX-License-Identifier: Apache-2.0

// The Agent: configuration, startup, the workload table and shutdown.

package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/nodeagent/workload"
)

// DefaultProxyPort is the loopback port of the proxy listeners.
const DefaultProxyPort = 15001

// DefaultDrainTimeout is how long a stopping agent lets connections in
// flight finish.
const DefaultDrainTimeout = 10 * time.Second

// backlogGrace is how long a stopping agent keeps accepting after marking
// its workloads not ready: connects that passed the kernel's readiness
// check just before are completing their handshake and must be served, not
// reset.
const backlogGrace = 50 * time.Millisecond

// Config configures an Agent. It must not change once passed to New.
type Config struct {
	// BPF configures interception (pin dir, ports, destination prefixes).
	BPF bpf.Config
	// ProxyPort is the port of the proxy listeners on 127.0.0.1 and [::1]
	// in each workload's network namespace. Zero means DefaultProxyPort.
	ProxyPort uint16
	// Discovery says which workloads to intercept: VM cgroups and units,
	// and Kubernetes pods by selector. Workloads can also be added with
	// Attach (interlock exec does, through the local API).
	Discovery workload.Config
	// ScanInterval is how often Discovery is rescanned; zero means
	// workload.DefaultInterval.
	ScanInterval time.Duration
	// FailOpen names workloads whose connections pass uninspected while
	// the proxy is down, instead of being refused. The choice is logged.
	FailOpen []string
	// DetachOnExit removes interception when Run returns. Without it, the
	// pins stay and intercepted connects fail closed until the next agent.
	DetachOnExit bool
	// DrainTimeout bounds how long Run waits, when stopping, for the
	// connections in flight to finish before closing them. Zero means
	// DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Handle serves an accepted connection and closes it; it must return
	// when ctx is done. Nil means pass every connection through to its
	// original destination.
	Handle func(ctx context.Context, c *l7proxy.Conn, dial Dialer)
	// CABundle is the PEM file workloads must trust for TLS termination,
	// handed to interlock exec; "" while the node terminates no TLS.
	CABundle string
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Dialer dials a connection's original destination from the workload's
// network namespace.
type Dialer = l7proxy.Dialer

// Agent is a node agent. Its methods are safe for concurrent use.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	objs  *bpf.Objects
	host  []*l7proxy.Listener // host-network listeners (VM workloads)
	port6 uint16              // ProxyPort, or 0 where [::1] cannot be listened on

	mu       sync.Mutex
	nextID   uint32
	attached map[uint64]*attached // by cgroup id; guarded by mu
	// departed remembers detached workloads for departedFor: a connection
	// a workload made just before it was detached (its last process
	// exiting) may be accepted after, and is still its. Guarded by mu.
	departed map[uint64]departedWorkload

	// connCtx is the context of every connection served: it outlives
	// Run's ctx by the drain timeout.
	connCtx     context.Context
	cancelConns context.CancelFunc

	monitor // metrics and readiness

	loops    sync.WaitGroup // accept loops
	conns    sync.WaitGroup // connections being served
	accepted atomic.Uint64  // connections accepted and resolved
}

// departedFor is how long a detached workload still names the
// connections it made before.
const departedFor = time.Minute

type departedWorkload struct {
	info  l7proxy.Workload
	until time.Time
}

// attached is a workload the agent intercepts.
type attached struct {
	id        uint32
	w         workload.Workload
	info      l7proxy.Workload
	listeners []*l7proxy.Listener // in the pod's network namespace; none for VMs
}

// New checks that this kernel can intercept (and says exactly what is
// missing if not), loads or takes over the BPF objects, and opens the
// host's proxy listeners. Run serves; Attach works from New on.
func New(cfg Config) (_ *Agent, err error) {
	if cfg.ProxyPort == 0 {
		cfg.ProxyPort = DefaultProxyPort
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.ScanInterval == 0 {
		cfg.ScanInterval = workload.DefaultInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Discovery.Logger == nil {
		cfg.Discovery.Logger = log
	}
	if err := bpf.Probe(); err != nil {
		return nil, fmt.Errorf("nodeagent: transparent interception is not available on this machine (--mode=proxy is the explicit fallback): %w", err)
	}
	cfg.BPF.Logger = log
	objs, err := bpf.Load(cfg.BPF)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: %w", err)
	}
	a := &Agent{cfg: cfg, log: log, objs: objs, nextID: 1, attached: map[uint64]*attached{}, departed: map[uint64]departedWorkload{}}
	a.connCtx, a.cancelConns = context.WithCancel(context.Background())
	a.health = newHealth(CondBPF, CondListeners, CondWorkloads)
	a.health.set(CondBPF, true)
	a.metrics = newMetrics(func() int { return len(a.Workloads()) }, &bpfCollector{objs: objs})
	defer func() {
		if err != nil {
			a.abandon()
		}
	}()
	host, v6, err := a.listen(func(network, addr string) (net.Listener, error) { return net.Listen(network, addr) })
	if err != nil {
		return nil, fmt.Errorf("nodeagent: host proxy listener: %w", err)
	}
	a.host = host
	if v6 {
		a.port6 = cfg.ProxyPort
	}
	a.health.set(CondListeners, true)
	return a, nil
}

// abandon releases an Agent that will never Run: its host listeners close
// and its BPF objects are released. What is pinned stays pinned, and fails
// closed until the next start, as after Run.
func (a *Agent) abandon() {
	a.cancelConns()
	closeAll(a.host)
	a.objs.Close()
}

// listen opens the proxy listeners on 127.0.0.1 and, where IPv6 works,
// [::1] with listenFn, and reports whether the IPv6 one is up.
func (a *Agent) listen(listenFn func(network, addr string) (net.Listener, error)) ([]*l7proxy.Listener, bool, error) {
	port := fmt.Sprint(a.cfg.ProxyPort)
	var out []*l7proxy.Listener
	v6 := false
	for _, addr := range []string{"127.0.0.1", "::1"} {
		ln, err := listenFn("tcp", net.JoinHostPort(addr, port))
		if err != nil {
			if addr == "::1" {
				// No IPv6 loopback: IPv6 connects of the workload fail
				// closed (ProxyPort6 = 0) instead of being served.
				a.log.Warn("no IPv6 proxy listener; IPv6 connections will be refused", "err", err)
				continue
			}
			closeAll(out)
			return nil, false, err
		}
		l, err := l7proxy.NewListener(ln, l7proxy.ListenerConfig{Resolver: a.objs, Workload: a.lookup, Logger: a.log})
		if err != nil {
			ln.Close()
			closeAll(out)
			return nil, false, err
		}
		out = append(out, l)
		v6 = v6 || addr == "::1"
	}
	return out, v6, nil
}

// Run serves until ctx is done: it attaches the workloads Discovery finds
// (and keeps rescanning), serves connections, then shuts down: workloads
// are marked not ready (their new connects fail closed), the listeners
// close, connections in flight get Config.DrainTimeout to finish, and the
// interception stays pinned unless Config.DetachOnExit. Call Run once.
func (a *Agent) Run(ctx context.Context) error {
	defer a.shutdown()
	for _, l := range a.host {
		a.serveLoop(a.connCtx, l, dialHost)
	}
	scanner, err := workload.NewScanner(a.cfg.Discovery)
	if err != nil {
		return fmt.Errorf("nodeagent: %w", err)
	}
	a.log.Info("node agent running", "proxy_port", a.cfg.ProxyPort, "pin_dir", a.objs.PinDir())
	err = scanner.Run(ctx, a.cfg.ScanInterval, func(added, removed []workload.Workload) {
		for _, w := range removed {
			a.detachKey(w.CgroupID, w.Key())
		}
		for _, w := range added {
			if _, err := a.Attach(ctx, w); err != nil {
				a.log.Error("attach workload", "workload", w.String(), "err", err)
			}
		}
		a.health.set(CondWorkloads, true)
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("nodeagent: workload discovery: %w", err)
	}
	return nil
}

func (a *Agent) serveLoop(ctx context.Context, l *l7proxy.Listener, dial Dialer) {
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		a.serve(ctx, l, dial)
	}()
}

// Attach intercepts w: for a pod it opens the proxy listeners inside the
// pod's network namespace; then it attaches the BPF programs to w's cgroup
// and marks it ready. It returns the cgroup id. Attaching a cgroup again
// with the same workload is a no-op; with another, it replaces it.
func (a *Agent) Attach(ctx context.Context, w workload.Workload) (uint64, error) {
	if w.Name == "" || w.CgroupPath == "" || w.CgroupID == 0 {
		return 0, errors.New("nodeagent: workload needs a name, a cgroup path and its id")
	}
	a.mu.Lock()
	old := a.attached[w.CgroupID]
	a.mu.Unlock()
	if old != nil && old.w.Key() == w.Key() {
		return w.CgroupID, nil
	}
	if old != nil {
		a.detachKey(w.CgroupID, old.w.Key())
	}
	at := &attached{w: w, info: proxyWorkload(w)}
	port6 := a.port6
	if w.NetnsPath != "" {
		ls, v6, err := a.listen(func(network, addr string) (net.Listener, error) { return w.Listen(ctx, network, addr) })
		if err != nil {
			return 0, fmt.Errorf("nodeagent: workload %s: proxy listener in its network namespace: %w", w, err)
		}
		at.listeners = ls
		port6 = 0
		if v6 {
			port6 = a.cfg.ProxyPort
		}
		dial := func(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error) {
			c, err := w.Dial(ctx, "tcp", dst.String())
			if err != nil {
				return nil, err
			}
			return c.(*net.TCPConn), nil
		}
		for _, l := range ls {
			a.serveLoop(a.connCtx, l, dial)
		}
	}
	a.mu.Lock()
	at.id = a.nextID
	a.nextID++
	a.attached[w.CgroupID] = at
	a.mu.Unlock()
	failOpen := slices.Contains(a.cfg.FailOpen, w.Name)
	bw := bpf.Workload{ID: at.id, ProxyPort4: a.cfg.ProxyPort, ProxyPort6: port6, Ready: true, FailOpen: failOpen}
	if err := a.objs.Attach(w.CgroupPath, bw); err != nil {
		a.detachKey(w.CgroupID, w.Key())
		return 0, fmt.Errorf("nodeagent: workload %s: %w", w, err)
	}
	a.log.Info("intercepting workload", "workload", w.String(), "cgroup", w.CgroupPath, "cgroup_id", w.CgroupID,
		"netns", w.NetnsPath, "fail_open", failOpen)
	return w.CgroupID, nil
}

// Detach stops intercepting the workload of cgroupID.
func (a *Agent) Detach(cgroupID uint64) error {
	a.mu.Lock()
	at := a.attached[cgroupID]
	a.mu.Unlock()
	if at == nil {
		return fmt.Errorf("nodeagent: detach cgroup %d: %w", cgroupID, bpf.ErrNotFound)
	}
	return a.detachKey(cgroupID, at.w.Key())
}

// detachKey detaches cgroupID if it still holds the workload with key.
func (a *Agent) detachKey(cgroupID uint64, key string) error {
	a.mu.Lock()
	at := a.attached[cgroupID]
	if at == nil || at.w.Key() != key {
		a.mu.Unlock()
		return nil
	}
	delete(a.attached, cgroupID)
	now := time.Now()
	for id, d := range a.departed {
		if now.After(d.until) {
			delete(a.departed, id)
		}
	}
	a.departed[cgroupID] = departedWorkload{info: at.info, until: now.Add(departedFor)}
	a.mu.Unlock()
	err := a.objs.DetachID(cgroupID)
	closeAll(at.listeners)
	if err != nil {
		return fmt.Errorf("nodeagent: %w", err)
	}
	a.log.Info("stopped intercepting workload", "workload", at.w.String(), "cgroup_id", cgroupID)
	return nil
}

// Workloads returns the intercepted workloads.
func (a *Agent) Workloads() []l7proxy.Workload {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]l7proxy.Workload, 0, len(a.attached))
	for _, at := range a.attached {
		out = append(out, at.info)
	}
	return out
}

// Accepted returns how many redirected connections the agent has accepted.
func (a *Agent) Accepted() uint64 { return a.accepted.Load() }

// Objects gives access to the BPF objects (counters, map sizes).
func (a *Agent) Objects() *bpf.Objects { return a.objs }

// lookup is the listeners' workload resolver.
func (a *Agent) lookup(cgroupID uint64) (l7proxy.Workload, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at, ok := a.attached[cgroupID]; ok {
		return at.info, true
	}
	if d, ok := a.departed[cgroupID]; ok && time.Now().Before(d.until) {
		return d.info, true
	}
	return l7proxy.Workload{}, false
}

func proxyWorkload(w workload.Workload) l7proxy.Workload {
	return l7proxy.Workload{
		Kind: string(w.Kind), Name: w.Name, Namespace: w.Namespace, PodUID: w.PodUID,
		ServiceAccount: w.ServiceAccount, Unit: w.Unit, CgroupPath: w.CgroupPath, CgroupID: w.CgroupID,
	}
}

// shutdown stops serving. Workloads go not-ready first, so that from here
// on their connects fail closed (or pass, if fail-open) instead of
// reaching a listener that is about to close; connects already past that
// check are still accepted for backlogGrace; then the listeners close and
// connections in flight drain.
func (a *Agent) shutdown() {
	defer a.cancelConns()
	a.health.set(CondListeners, false)
	a.mu.Lock()
	all := make([]*attached, 0, len(a.attached))
	for _, at := range a.attached {
		all = append(all, at)
	}
	a.mu.Unlock()
	for _, at := range all {
		if err := a.objs.SetReady(at.w.CgroupID, false); err != nil {
			a.log.Error("mark not ready", "workload", at.w.String(), "err", err)
		}
	}
	time.Sleep(backlogGrace)
	closeAll(a.host)
	for _, at := range all {
		closeAll(at.listeners)
	}
	a.loops.Wait()
	drain(a.log, &a.conns, a.cfg.DrainTimeout, a.cancelConns)
	if a.cfg.DetachOnExit {
		for _, at := range all {
			if err := a.objs.DetachID(at.w.CgroupID); err != nil {
				a.log.Error("detach", "workload", at.w.String(), "err", err)
			}
		}
		if err := a.objs.Unpin(); err != nil {
			a.log.Error("unpin", "err", err)
		}
	}
	if err := a.objs.Close(); err != nil {
		a.log.Error("close bpf objects", "err", err)
	}
	if a.cfg.DetachOnExit {
		a.log.Info("node agent stopped; interception removed")
	} else {
		a.log.Info("node agent stopped; interception stays pinned and fails closed until the next start", "pin_dir", a.objs.PinDir())
	}
}

func closeAll(ls []*l7proxy.Listener) {
	for _, l := range ls {
		l.Close()
	}
}
