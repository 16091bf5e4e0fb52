// SPDX-License-Identifier: Apache-2.0

// Serving accepted connections, and dialing their original destinations.

package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
)

// dialTimeout bounds the dial of an original destination.
const dialTimeout = 10 * time.Second

// serve accepts connections on l until l is closed, and serves each on its
// own goroutine with ctx.
func (a *Agent) serve(ctx context.Context, l *l7proxy.Listener, dial Dialer) {
	for {
		c, err := l.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				a.log.Error("accept", "listener", l.Addr(), "err", err)
			}
			return
		}
		a.accepted.Add(1)
		a.conns.Add(1)
		go func() {
			defer a.conns.Done()
			if a.cfg.Handle != nil {
				a.cfg.Handle(ctx, c, dial)
				a.metrics.handled(c.Workload.Name)
				return
			}
			st, err := passthrough(ctx, a.log, c, dial)
			a.metrics.passed(c.Workload.Name, st, err)
		}()
	}
}

// errDial marks a passthrough that could not reach the original
// destination.
var errDial = errors.New("dial original destination")

// passthrough relays c to its original destination without inspecting it:
// first what was already read from the client (c.Peeked), then spliced.
func passthrough(ctx context.Context, log *slog.Logger, c *l7proxy.Conn, dial Dialer) (l7proxy.PassStats, error) {
	dst := c.Upstream()
	up, err := dial(ctx, dst)
	if err != nil {
		log.Warn("dial original destination", "workload", c.Workload.Name, "dst", dst, "err", err)
		c.Close()
		return l7proxy.PassStats{}, fmt.Errorf("%w %s: %w", errDial, dst, err)
	}
	var st l7proxy.PassStats
	if len(c.Peeked) > 0 {
		if _, err := up.Write(c.Peeked); err != nil {
			log.Warn("forward peeked bytes", "workload", c.Workload.Name, "dst", dst, "err", err)
			c.Close()
			up.Close()
			return st, err
		}
		st.FromClient = int64(len(c.Peeked))
	}
	pst, err := l7proxy.Passthrough(ctx, c.TCPConn, up)
	st.FromClient += pst.FromClient
	st.ToClient = pst.ToClient
	log.Debug("passthrough done", "workload", c.Workload.Name, "dst", dst,
		"from_client", st.FromClient, "to_client", st.ToClient, "err", err)
	return st, err
}

// drain waits for conns to finish, for at most timeout; then it cancels
// their context and waits for them to return.
func drain(log *slog.Logger, conns *sync.WaitGroup, timeout time.Duration, cancel context.CancelFunc) {
	drained := make(chan struct{})
	go func() { conns.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(timeout):
		log.Warn("closing connections still open after the drain timeout", "timeout", timeout)
		cancel()
		<-drained
	}
}

// dialHost dials from the host's network namespace (VM workloads).
func dialHost(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}
