// SPDX-License-Identifier: Apache-2.0

// Proxy mode: the explicit fallback where eBPF interception is not
// available. Workloads are pointed at the node (HTTPS_PROXY for HTTPS, a
// local listener per PostgreSQL server) instead of being redirected by the
// kernel; what is behind the listeners is the same.

package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/nodeagent/workload"
)

// DefaultConnectListen is where proxy mode serves HTTPS_PROXY.
const DefaultConnectListen = "127.0.0.1:3128"

// PGRoute is a PostgreSQL listener of proxy mode: clients connect to
// Listen instead of the server Upstream (host:port).
type PGRoute struct {
	Listen   string
	Upstream string
}

// ProxyConfig configures proxy mode. It must not change once passed to
// NewProxyMode.
type ProxyConfig struct {
	// ConnectListen is the HTTP CONNECT listener (HTTPS_PROXY); "" means
	// DefaultConnectListen.
	ConnectListen string
	// Ports are the destination ports CONNECT may reach; empty means 443
	// and 5432.
	Ports []uint16
	// PG are the PostgreSQL listeners.
	PG []PGRoute
	// Discovery names the VM workloads whose processes are told apart by
	// their cgroup (Kubernetes pods are not supported in proxy mode).
	Discovery workload.Config
	// Resolve resolves CONNECT and upstream host names; nil means the
	// system resolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Handle, DrainTimeout and Logger are as in Config. A Node's Handle
	// serves the PG listeners' connections as PostgreSQL: they go to port
	// 5432 or start with a startup packet.
	Handle func(ctx context.Context, c *l7proxy.Conn, dial Dialer)
	// Admit is l7proxy.ConnectConfig.Admit: a Node refuses tunnels
	// until it has a policy.
	Admit        func() error
	DrainTimeout time.Duration
	Logger       *slog.Logger
}

// ProxyAgent serves proxy mode. It is ready (HealthHandler) while its
// listeners are up; a Node adds its own conditions. Its methods are safe
// for concurrent use.
type ProxyAgent struct {
	cfg     ProxyConfig
	log     *slog.Logger
	connect *net.TCPListener
	pg      []*net.TCPListener
	root    string // cgroup2 mount, "" without cgroup v2

	monitor // metrics and readiness

	mu        sync.Mutex
	workloads map[string]workload.Workload // from discovery, by key; guarded by mu

	connCtx     context.Context
	cancelConns context.CancelFunc
	loops       sync.WaitGroup
	conns       sync.WaitGroup
}

// NewProxyMode opens proxy mode's listeners.
func NewProxyMode(cfg ProxyConfig) (_ *ProxyAgent, err error) {
	if cfg.ConnectListen == "" {
		cfg.ConnectListen = DefaultConnectListen
	}
	if len(cfg.Ports) == 0 {
		cfg.Ports = []uint16{443, 5432}
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if len(cfg.Discovery.Selectors) > 0 || cfg.Discovery.Pods != nil {
		return nil, errors.New("nodeagent: proxy mode cannot tell pods apart: use transparent mode on Kubernetes")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Discovery.Logger == nil {
		cfg.Discovery.Logger = log
	}
	p := &ProxyAgent{cfg: cfg, log: log, workloads: map[string]workload.Workload{}}
	p.health = newHealth(CondListeners)
	p.metrics = newMetrics(func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.workloads)
	})
	p.root, _ = cgroups.Mount() // without cgroup v2, workloads are unknown
	defer func() {
		if err != nil {
			p.closeListeners()
		}
	}()
	if p.connect, err = listenTCP(cfg.ConnectListen); err != nil {
		return nil, fmt.Errorf("nodeagent: CONNECT listener: %w", err)
	}
	for _, r := range cfg.PG {
		if _, _, err := net.SplitHostPort(r.Upstream); err != nil {
			return nil, fmt.Errorf("nodeagent: PostgreSQL route %s: upstream %q: %w", r.Listen, r.Upstream, err)
		}
		ln, err := listenTCP(r.Listen)
		if err != nil {
			return nil, fmt.Errorf("nodeagent: PostgreSQL listener for %s: %w", r.Upstream, err)
		}
		p.pg = append(p.pg, ln)
	}
	p.connCtx, p.cancelConns = context.WithCancel(context.Background())
	p.health.set(CondListeners, true)
	return p, nil
}

func listenTCP(addr string) (*net.TCPListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return ln.(*net.TCPListener), nil
}

// ConnectAddr is the address to put in HTTPS_PROXY.
func (p *ProxyAgent) ConnectAddr() net.Addr { return p.connect.Addr() }

// PGAddrs are the PostgreSQL listeners' addresses, in ProxyConfig.PG order.
func (p *ProxyAgent) PGAddrs() []net.Addr {
	out := make([]net.Addr, len(p.pg))
	for i, ln := range p.pg {
		out[i] = ln.Addr()
	}
	return out
}

// Run serves until ctx is done, then closes the listeners and drains.
func (p *ProxyAgent) Run(ctx context.Context) error {
	defer p.shutdown()
	p.accept(p.connect, func(ctx context.Context, c *net.TCPConn) (*l7proxy.Conn, error) {
		return l7proxy.Connect(ctx, c, l7proxy.ConnectConfig{Ports: p.cfg.Ports, Resolve: p.cfg.Resolve, Admit: p.cfg.Admit})
	})
	for i, ln := range p.pg {
		route := p.cfg.PG[i]
		p.accept(ln, func(ctx context.Context, c *net.TCPConn) (*l7proxy.Conn, error) {
			dst, host, err := p.resolve(ctx, route.Upstream)
			if err != nil {
				c.Close()
				return nil, err
			}
			return &l7proxy.Conn{TCPConn: c, ServerName: host, Original: bpf.Original{Dst: dst}}, nil
		})
	}
	scanner, err := workload.NewScanner(p.cfg.Discovery)
	if err != nil {
		return fmt.Errorf("nodeagent: %w", err)
	}
	p.log.Info("node agent running in proxy mode", "https_proxy", "http://"+p.connect.Addr().String(), "postgres", len(p.pg))
	err = scanner.Run(ctx, workload.DefaultInterval, func(added, removed []workload.Workload) {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, w := range removed {
			delete(p.workloads, w.Key())
		}
		for _, w := range added {
			p.workloads[w.Key()] = w
		}
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("nodeagent: workload discovery: %w", err)
	}
	return nil
}

// accept serves ln: each connection gets its own goroutine that opens it
// (CONNECT handshake or route), identifies its process, and serves it.
func (p *ProxyAgent) accept(ln *net.TCPListener, open func(context.Context, *net.TCPConn) (*l7proxy.Conn, error)) {
	p.loops.Add(1)
	go func() {
		defer p.loops.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					p.log.Error("accept", "listener", ln.Addr(), "err", err)
				}
				return
			}
			p.conns.Add(1)
			go func() {
				defer p.conns.Done()
				client, server := addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())
				conn, err := open(p.connCtx, c)
				if err != nil {
					p.log.Warn("refused connection", "client", client, "err", err)
					return
				}
				p.identify(conn, client, server)
				if p.cfg.Handle != nil {
					p.cfg.Handle(p.connCtx, conn, dialHost)
					p.metrics.handled(conn.Workload.Name)
					return
				}
				st, err := passthrough(p.connCtx, p.log, conn, dialHost)
				p.metrics.passed(conn.Workload.Name, st, err)
			}()
		}
	}()
}

// identify fills in who opened c, as far as /proc tells: the uid always;
// the process and its workload when it runs in a discovered workload.
func (p *ProxyAgent) identify(c *l7proxy.Conn, client, server netip.AddrPort) {
	uid, inode, err := socketOwner(client, server)
	if err != nil {
		p.log.Warn("cannot tell who connected", "client", client, "err", err)
		return
	}
	c.Original.UID = uid
	p.mu.Lock()
	ws := make([]workload.Workload, 0, len(p.workloads))
	for _, w := range p.workloads {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	for _, w := range ws {
		pids, err := procsBelow(w.CgroupPath)
		if err != nil {
			continue
		}
		if pid, ok := pidOfSocket(pids, inode); ok {
			c.Original.PID = uint32(pid)
			c.Original.WorkloadCgroupID = w.CgroupID
			c.Original.CgroupID = w.CgroupID
			if rel, err := cgroups.OfProcess(pid); err == nil && p.root != "" {
				if id, err := cgroups.ID(filepath.Join(p.root, rel)); err == nil {
					c.Original.CgroupID = id
				}
			}
			c.Workload = proxyWorkload(w)
			return
		}
	}
}

// procsBelow lists the processes in the cgroup dir and its descendants.
func procsBelow(dir string) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		ps, err := cgroups.Procs(path)
		if err != nil {
			return err
		}
		pids = append(pids, ps...)
		return nil
	})
	return pids, err
}

// resolve resolves a host:port upstream.
func (p *ProxyAgent) resolve(ctx context.Context, hostport string) (netip.AddrPort, string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, "", err
	}
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap, "", nil
	}
	resolve := p.cfg.Resolve
	if resolve == nil {
		resolve = func(ctx context.Context, h string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
		}
	}
	addrs, err := resolve(ctx, host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, "", fmt.Errorf("resolve %s: %w", host, errors.Join(err, errNoAddrs(len(addrs))))
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(addrs[0].Unmap().String(), port))
	return ap, strings.ToLower(host), err
}

func errNoAddrs(n int) error {
	if n == 0 {
		return errors.New("no address")
	}
	return nil
}

func addrPort(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func (p *ProxyAgent) shutdown() {
	p.health.set(CondListeners, false)
	p.closeListeners()
	p.loops.Wait()
	drain(p.log, &p.conns, p.cfg.DrainTimeout, p.cancelConns)
	p.cancelConns()
	p.log.Info("node agent (proxy mode) stopped")
}

// abandon releases a ProxyAgent that will never Run.
func (p *ProxyAgent) abandon() {
	p.closeListeners()
	p.cancelConns()
}

func (p *ProxyAgent) closeListeners() {
	if p.connect != nil {
		p.connect.Close()
	}
	for _, ln := range p.pg {
		ln.Close()
	}
}
