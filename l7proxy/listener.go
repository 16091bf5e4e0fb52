// SPDX-License-Identifier: Apache-2.0

// Listener: accepting redirected connections with their original
// destination and workload.

package l7proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/interlockhq/interlock/bpf"
)

// Resolver finds what the kernel recorded about a redirected connection.
// *bpf.Objects is one.
type Resolver interface {
	Lookup(netnsCookie uint64, client netip.AddrPort) (bpf.Original, error)
}

// Workload describes an intercepted workload as the node agent knows it.
type Workload struct {
	Kind           string // "vm" or "pod"
	Name           string
	Namespace      string
	PodUID         string
	ServiceAccount string
	Unit           string
	CgroupPath     string
	CgroupID       uint64
}

// Dialer dials a connection's original destination from the workload's
// network namespace. The connections it makes are never intercepted.
type Dialer func(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error)

// Conn is an accepted connection of a workload, with where it was going.
type Conn struct {
	*net.TCPConn
	// Original is the destination the workload dialed and who dialed it,
	// as the kernel recorded it (in proxy mode: the CONNECT target, and
	// what the node could learn of the client's process).
	Original bpf.Original
	// Workload is the workload the connection came from; Workload.Name is
	// empty when the node agent does not (or no longer) know the cgroup.
	Workload Workload
	// ServerName is the host name the workload asked for, where the
	// protocol said it before TLS (an HTTP CONNECT); "" otherwise.
	ServerName string
	// Peeked holds bytes already read from the client that belong to its
	// stream: whoever serves the connection must process or forward them
	// before anything else read from TCPConn.
	Peeked []byte
}

// ListenerConfig says how a Listener resolves connections. It must not
// change once the Listener is in use.
type ListenerConfig struct {
	// Resolver gives the original destination; required.
	Resolver Resolver
	// Workload returns the workload registered for a workload cgroup id, or
	// false. Nil means workloads are known only by their cgroup id.
	Workload func(cgroupID uint64) (Workload, bool)
	// Logger receives refusals. Nil means slog.Default().
	Logger *slog.Logger
}

// Listener accepts redirected connections. It is safe for concurrent use.
type Listener struct {
	ln     *net.TCPListener
	cookie uint64
	cfg    ListenerConfig
	log    *slog.Logger
}

// NewListener wraps ln, a TCP listener that the kernel redirects workload
// connects to. The listener's network namespace is that of its clients.
// The Listener owns ln: Close closes it.
func NewListener(ln net.Listener, cfg ListenerConfig) (*Listener, error) {
	tln, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, fmt.Errorf("l7proxy: listener is a %T, want *net.TCPListener", ln)
	}
	if cfg.Resolver == nil {
		return nil, errors.New("l7proxy: listener: no resolver")
	}
	cookie, err := bpf.NetnsCookie(tln)
	if err != nil {
		return nil, fmt.Errorf("l7proxy: listener: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Listener{ln: tln, cookie: cookie, cfg: cfg, log: log}, nil
}

// Addr is the listener's address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// NetnsCookie is the cookie of the network namespace the listener serves.
func (l *Listener) NetnsCookie() uint64 { return l.cookie }

// Close closes the listener; a blocked Accept returns net.ErrClosed.
func (l *Listener) Close() error { return l.ln.Close() }

// Accept waits for the next redirected connection and resolves it. A
// connection the kernel has no record of is closed and logged, and Accept
// waits for the next one. It returns when ctx is done (ctx.Err()) or the
// listener is closed (net.ErrClosed).
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	stop := context.AfterFunc(ctx, func() { _ = l.ln.SetDeadline(aLongTimeAgo) })
	defer stop()
	for {
		c, err := l.ln.AcceptTCP()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return nil, fmt.Errorf("l7proxy: accept: %w", err)
		}
		conn, err := l.resolve(c)
		if err != nil {
			l.log.Warn("refused connection without a kernel record", "client", c.RemoteAddr(), "err", err)
			_ = c.Close()
			continue
		}
		return conn, nil
	}
}

func (l *Listener) resolve(c *net.TCPConn) (*Conn, error) {
	client, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return nil, fmt.Errorf("client address: %w", err)
	}
	orig, err := l.cfg.Resolver.Lookup(l.cookie, client)
	if err != nil {
		return nil, err
	}
	conn := &Conn{TCPConn: c, Original: orig, Workload: Workload{CgroupID: orig.WorkloadCgroupID}}
	if l.cfg.Workload != nil {
		if w, ok := l.cfg.Workload(orig.WorkloadCgroupID); ok {
			conn.Workload = w
		}
	}
	return conn, nil
}

// Upstream returns the address to dial for c's original destination: the
// dialed address with a v4-mapped IPv6 form unmapped.
func (c *Conn) Upstream() netip.AddrPort {
	return netip.AddrPortFrom(c.Original.Dst.Addr().Unmap(), c.Original.Dst.Port())
}

// aLongTimeAgo is a deadline in the past, to interrupt a blocked Accept.
var aLongTimeAgo = time.Unix(1, 0)
