// SPDX-License-Identifier: Apache-2.0

// HTTP CONNECT: the explicit-proxy fallback for machines where eBPF
// interception is not available (HTTPS_PROXY).

package l7proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/interlockhq/interlock/bpf"
)

// connectLimits bound what a client may send before its tunnel is open.
const (
	connectTimeout   = 10 * time.Second
	connectMaxHeader = 16 << 10
)

// ConnectConfig says which CONNECT targets a tunnel may open.
type ConnectConfig struct {
	// Ports are the destination ports a tunnel may reach; others are
	// refused with 403.
	Ports []uint16
	// Resolve returns the addresses of a host name; nil means the system
	// resolver. Resolution happens here, not at the workload, as in
	// transparent mode the workload would have resolved it.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Admit, if set, is asked before a tunnel is opened: an error refuses
	// the request with 503 and the error's text, rather than opening a
	// tunnel that would only be closed (a node with no policy yet).
	Admit func() error
}

// ConnectError is a CONNECT request that was refused; the client was told
// Status.
type ConnectError struct {
	Status int
	Reason string
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("connect refused (%d): %s", e.Status, e.Reason)
}

// Connect reads an HTTP CONNECT request from c (bounded in size and time),
// resolves its target and answers 200 Connection Established, returning
// the tunnel as a Conn whose Original.Dst is the target and ServerName its
// host. A malformed or refused request gets an HTTP error and a
// *ConnectError; c is then closed. The caller fills in the workload.
func Connect(ctx context.Context, c *net.TCPConn, cfg ConnectConfig) (*Conn, error) {
	conn, err := connect(ctx, c, cfg)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("l7proxy: %w", err)
	}
	return conn, nil
}

func connect(ctx context.Context, c *net.TCPConn, cfg ConnectConfig) (*Conn, error) {
	deadline := time.Now().Add(connectTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetReadDeadline(deadline)
	br := bufio.NewReaderSize(io.LimitReader(c, connectMaxHeader), 4096)
	host, port, perr := readConnect(br, cfg.Ports)
	if perr != nil {
		if perr.Status == http.StatusBadRequest && strings.HasPrefix(perr.Reason, "TLS") {
			perr.Reason += ": set HTTPS_PROXY=http://" + c.LocalAddr().String()
		}
		return nil, refuse(c, perr.Status, perr.Reason)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		resolve := cfg.Resolve
		if resolve == nil {
			resolve = func(ctx context.Context, h string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
			}
		}
		addrs, rerr := resolve(ctx, host)
		if rerr != nil || len(addrs) == 0 {
			return nil, refuse(c, http.StatusBadGateway, fmt.Sprintf("resolve %s: %v", host, errors.Join(rerr, errNoAddress(len(addrs)))))
		}
		addr = addrs[0]
	} else {
		host = ""
	}
	if cfg.Admit != nil {
		if err := cfg.Admit(); err != nil {
			return nil, refuse(c, http.StatusServiceUnavailable, err.Error())
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		return nil, err
	}
	conn := &Conn{TCPConn: c, ServerName: host, Original: bpf.Original{Dst: netip.AddrPortFrom(addr.Unmap(), port)}}
	if n := br.Buffered(); n > 0 {
		conn.Peeked, _ = br.Peek(n)
		conn.Peeked = slices.Clone(conn.Peeked)
	}
	return conn, nil
}

// readConnect reads a CONNECT request from br and returns its target, or
// the refusal to send.
func readConnect(br *bufio.Reader, ports []uint16) (string, uint16, *ConnectError) {
	if first, err := br.Peek(1); err == nil && first[0] == 0x16 {
		return "", 0, &ConnectError{http.StatusBadRequest, "TLS handshake received: this proxy speaks plain HTTP CONNECT"}
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		return "", 0, &ConnectError{http.StatusBadRequest, "read CONNECT request: " + err.Error()}
	}
	if req.Body != nil {
		req.Body.Close()
	}
	if req.Method != http.MethodConnect {
		return "", 0, &ConnectError{http.StatusMethodNotAllowed, "only CONNECT is served here (this is an HTTPS_PROXY)"}
	}
	host, portStr, err := net.SplitHostPort(req.RequestURI)
	if err != nil || host == "" {
		return "", 0, &ConnectError{http.StatusBadRequest, "CONNECT target " + strconv.Quote(req.RequestURI) + " is not host:port"}
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return "", 0, &ConnectError{http.StatusBadRequest, "CONNECT port " + strconv.Quote(portStr) + " is not a port"}
	}
	if !slices.Contains(ports, uint16(port)) {
		return "", 0, &ConnectError{http.StatusForbidden, fmt.Sprintf("port %d is not one this proxy serves", port)}
	}
	return host, uint16(port), nil
}

func errNoAddress(n int) error {
	if n == 0 {
		return errors.New("no address")
	}
	return nil
}

// refuse answers the client with status and returns the ConnectError.
func refuse(c net.Conn, status int, reason string) error {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\n",
		status, http.StatusText(status), len(reason)+1, reason)
	return &ConnectError{Status: status, Reason: reason}
}
