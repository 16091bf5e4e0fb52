// SPDX-License-Identifier: Apache-2.0

// Client: the node's mTLS gRPC connection to the control plane.

package controlclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// Config says where the control plane is and who the node is.
type Config struct {
	// Server is the control plane's host:port. Required.
	Server string
	// ServerName is the name its certificate must carry; "" means the
	// host of Server.
	ServerName string
	// Identity is the enrolled node (see Enroll). Required by Dial.
	Identity *Identity
	// Logger receives reconnects and refusals; nil discards them.
	Logger *slog.Logger
	// DialOptions are added after the defaults (keepalive, reconnect
	// backoff from 100 ms to 5 s), so they can override them.
	DialOptions []grpc.DialOption
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c.Logger
}

func (c Config) serverName() (string, error) {
	if c.ServerName != "" {
		return c.ServerName, nil
	}
	host, _, err := net.SplitHostPort(c.Server)
	if err != nil {
		return "", fmt.Errorf("controlclient: server %q: want host:port", c.Server)
	}
	return host, nil
}

// dial opens a lazy gRPC connection over TLS 1.3 that verifies the control
// plane with roots, presenting cert when it is not nil.
func (c Config) dial(roots *x509.CertPool, cert *tls.Certificate) (*grpc.ClientConn, error) {
	name, err := c.serverName()
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS13}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		// The server allows pings every 10 s, also without streams.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
	}
	cc, err := grpc.NewClient(c.Server, append(opts, c.DialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("controlclient: dial %s: %w", c.Server, err)
	}
	return cc, nil
}

// Client is a node's connection to the control plane, authenticated by
// its client certificate. gRPC reconnects it by itself; the watchers
// built on it (PolicyWatcher, Approvals, the uploader) restart their
// streams. It is safe for concurrent use.
type Client struct {
	id   *Identity
	cc   *grpc.ClientConn
	log  *slog.Logger
	once sync.Once
}

// Dial connects to the control plane as cfg.Identity. The connection is
// lazy: an unreachable control plane shows up in the calls, not here. The
// caller must Close the Client.
func Dial(cfg Config) (*Client, error) {
	if cfg.Identity == nil {
		return nil, fmt.Errorf("controlclient: Dial needs an Identity (enrol first)")
	}
	cc, err := cfg.dial(cfg.Identity.ControlCAs, &cfg.Identity.ClientCert)
	if err != nil {
		return nil, err
	}
	return &Client{id: cfg.Identity, cc: cc, log: cfg.logger()}, nil
}

// Identity returns the node's identity.
func (c *Client) Identity() *Identity { return c.id }

// Conn returns the gRPC connection, for the service clients of
// proto/interlock/v1. It is valid until Close.
func (c *Client) Conn() *grpc.ClientConn { return c.cc }

// Close closes the connection; streams on it end. A second Close returns
// net.ErrClosed.
func (c *Client) Close() error {
	err := net.ErrClosed
	c.once.Do(func() { err = c.cc.Close() })
	return err
}
