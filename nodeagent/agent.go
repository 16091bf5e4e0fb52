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
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/l7proxy"
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
	// Workloads are the VM workloads to intercept from the start.
	Workloads []WorkloadConfig
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
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// WorkloadConfig names a VM workload: a cgroup v2 directory whose
// processes are intercepted.
type WorkloadConfig struct {
	Name string
	// Cgroup is the cgroup directory, absolute or relative to the cgroup2
	// mount.
	Cgroup string
	// FailOpen lets the workload's connections through uninspected while
	// the proxy is down, instead of refusing them. Recorded, never silent.
	FailOpen bool
}

// Dialer dials a connection's original destination from the right
// network namespace.
type Dialer func(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error)

// Agent is a running node agent. Its methods are safe for concurrent use.
type Agent struct {
	cfg  Config
	log  *slog.Logger
	objs *bpf.Objects
	root string // cgroup2 mount

	host []*l7proxy.Listener // host-network listeners (VM workloads)

	mu     sync.Mutex
	nextID uint32
	byCg   map[uint64]*workload // by cgroup id; guarded by mu
	loops  sync.WaitGroup       // accept loops
	conns  sync.WaitGroup       // connections being served

	accepted atomic.Uint64 // connections accepted and resolved
}

// workload is an attached workload.
type workload struct {
	id   uint32
	info l7proxy.Workload
	cfg  WorkloadConfig
}

// New checks that this kernel can intercept (and says exactly what is
// missing if not), loads or takes over the BPF objects, and opens the
// host's proxy listeners. Run starts serving.
func New(cfg Config) (_ *Agent, err error) {
	if cfg.ProxyPort == 0 {
		cfg.ProxyPort = DefaultProxyPort
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := bpf.Probe(); err != nil {
		return nil, fmt.Errorf("nodeagent: transparent mode is not available on this machine (use --mode=proxy instead): %w", err)
	}
	root, err := cgroups.Mount()
	if err != nil {
		return nil, fmt.Errorf("nodeagent: %w", err)
	}
	cfg.BPF.Logger = log
	objs, err := bpf.Load(cfg.BPF)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: %w", err)
	}
	a := &Agent{cfg: cfg, log: log, objs: objs, root: root, nextID: 1, byCg: map[uint64]*workload{}}
	defer func() {
		if err != nil {
			a.closeListeners()
			objs.Close()
		}
	}()
	for _, addr := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, fmt.Sprint(cfg.ProxyPort)))
		if err != nil {
			return nil, fmt.Errorf("nodeagent: proxy listener: %w", err)
		}
		l, err := l7proxy.NewListener(ln, l7proxy.ListenerConfig{Resolver: objs, Workload: a.lookup, Logger: log})
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("nodeagent: %w", err)
		}
		a.host = append(a.host, l)
	}
	return a, nil
}

// Run attaches the configured workloads, serves connections until ctx is
// done, then shuts down: workloads are marked not ready (their new
// connects fail closed), the listeners close, connections in flight get
// Config.DrainTimeout to finish, and the interception stays pinned unless
// Config.DetachOnExit. Call Run once.
func (a *Agent) Run(ctx context.Context) error {
	// Connections outlive ctx by the drain timeout.
	connCtx, cancelConns := context.WithCancel(context.WithoutCancel(ctx))
	defer a.shutdown(cancelConns)
	for _, w := range a.cfg.Workloads {
		if _, err := a.AddWorkload(w); err != nil {
			return err
		}
	}
	for _, l := range a.host {
		a.loops.Add(1)
		go func() {
			defer a.loops.Done()
			a.serve(connCtx, l, dialHost)
		}()
	}
	a.log.Info("node agent running", "proxy_port", a.cfg.ProxyPort, "pin_dir", a.objs.PinDir(), "workloads", len(a.cfg.Workloads))
	<-ctx.Done()
	return nil
}

// AddWorkload attaches interception to a VM workload's cgroup and marks it
// ready. It returns the cgroup id. Adding an attached cgroup again updates
// it.
func (a *Agent) AddWorkload(w WorkloadConfig) (uint64, error) {
	if w.Name == "" || w.Cgroup == "" {
		return 0, errors.New("nodeagent: workload needs a name and a cgroup")
	}
	dir := w.Cgroup
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(a.root, dir)
	}
	id, err := cgroups.ID(dir)
	if err != nil {
		return 0, fmt.Errorf("nodeagent: workload %s: %w", w.Name, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	wl := a.byCg[id]
	if wl == nil {
		wl = &workload{id: a.nextID}
		a.nextID++
	}
	wl.cfg = w
	wl.info = l7proxy.Workload{Kind: "vm", Name: w.Name, CgroupPath: dir, CgroupID: id}
	port := a.cfg.ProxyPort
	bw := bpf.Workload{ID: wl.id, ProxyPort4: port, ProxyPort6: port, Ready: true, FailOpen: w.FailOpen}
	if err := a.objs.Attach(dir, bw); err != nil {
		return 0, fmt.Errorf("nodeagent: workload %s: %w", w.Name, err)
	}
	a.byCg[id] = wl
	a.log.Info("intercepting workload", "name", w.Name, "cgroup", dir, "cgroup_id", id, "fail_open", w.FailOpen)
	return id, nil
}

// RemoveWorkload detaches interception from a workload's cgroup.
func (a *Agent) RemoveWorkload(cgroupID uint64) error {
	a.mu.Lock()
	wl := a.byCg[cgroupID]
	delete(a.byCg, cgroupID)
	a.mu.Unlock()
	if err := a.objs.DetachID(cgroupID); err != nil {
		return fmt.Errorf("nodeagent: %w", err)
	}
	if wl != nil {
		a.log.Info("stopped intercepting workload", "name", wl.info.Name, "cgroup_id", cgroupID)
	}
	return nil
}

// Workloads returns the attached workloads.
func (a *Agent) Workloads() []l7proxy.Workload {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]l7proxy.Workload, 0, len(a.byCg))
	for _, w := range a.byCg {
		out = append(out, w.info)
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
	w, ok := a.byCg[cgroupID]
	if !ok {
		return l7proxy.Workload{}, false
	}
	return w.info, true
}

// shutdown stops serving. Workloads go not-ready first, so that from here
// on their connects fail closed (or pass, if fail-open) instead of
// reaching a listener that is about to close; connects already past that
// check are still accepted for backlogGrace; then the listeners close and
// connections in flight drain.
func (a *Agent) shutdown(cancelConns context.CancelFunc) {
	defer cancelConns()
	a.mu.Lock()
	ids := make([]uint64, 0, len(a.byCg))
	for id := range a.byCg {
		ids = append(ids, id)
	}
	a.mu.Unlock()
	for _, id := range ids {
		if err := a.objs.SetReady(id, false); err != nil {
			a.log.Error("mark not ready", "cgroup_id", id, "err", err)
		}
	}
	time.Sleep(backlogGrace)
	a.closeListeners()
	a.loops.Wait()
	drained := make(chan struct{})
	go func() { a.conns.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(a.cfg.DrainTimeout):
		a.log.Warn("closing connections still open after the drain timeout", "timeout", a.cfg.DrainTimeout)
		cancelConns()
		<-drained
	}
	if a.cfg.DetachOnExit {
		for _, id := range ids {
			if err := a.objs.DetachID(id); err != nil {
				a.log.Error("detach", "cgroup_id", id, "err", err)
			}
		}
	}
	if a.cfg.DetachOnExit {
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

func (a *Agent) closeListeners() {
	for _, l := range a.host {
		l.Close()
	}
}
