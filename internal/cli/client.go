// SPDX-License-Identifier: Apache-2.0

// The control plane client the people's commands share: flags, dialing,
// and errors people can act on.

package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/pki"
)

// Defaults shared by `interlock control` and its clients.
const (
	defaultDataDir = "/var/lib/interlock"
	defaultListen  = "127.0.0.1:7443"
)

// clientFlags are the flags of every command that calls the control plane.
type clientFlags struct {
	server    string
	ca        string
	tokenFile string
	output    string
	timeout   time.Duration
}

func (f *clientFlags) add(cmd *cobra.Command) {
	f.addConn(cmd)
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "output format: table, json or yaml")
}

// addConn adds the flags that reach the control plane, without --output,
// for commands whose output is a file (audit export).
func (f *clientFlags) addConn(cmd *cobra.Command) {
	f.output = "table"
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", defaultListen, "control plane address, host:port")
	pf.StringVar(&f.ca, "ca", filepath.Join(defaultDataDir, "pki", pki.ControlCAFile), "PEM file of the CA that signed the control plane's certificate")
	pf.StringVar(&f.tokenFile, "token-file", filepath.Join(defaultDataDir, "admin.token"), "file (mode 0600) holding your bearer token: an OIDC access token or the local admin credential")
	pf.DurationVar(&f.timeout, "timeout", 15*time.Second, "how long a call may take (not watches)")
}

// check validates the flags before any call.
func (f *clientFlags) check() error {
	switch f.output {
	case "table", "json", "yaml":
	default:
		return usageErrorf("--output %q: want table, json or yaml", f.output)
	}
	if _, _, err := net.SplitHostPort(f.server); err != nil {
		return usageErrorf("--server %q: want host:port", f.server)
	}
	return nil
}

// dial connects to the control plane over TLS with the bearer token. The
// connection is lazy: an unreachable server shows up at the first call.
func (f *clientFlags) dial() (*grpc.ClientConn, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	pemBytes, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, fmt.Errorf("read --ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--ca %s holds no PEM certificate", f.ca)
	}
	tok, err := auth.ReadTokenFile(f.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("read --token-file: %w", err)
	}
	host, _, _ := net.SplitHostPort(f.server)
	cfg := &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS13}
	cc, err := grpc.NewClient(f.server,
		grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithPerRPCCredentials(bearerToken(tok)))
	if err != nil {
		return nil, fmt.Errorf("control plane at %s: %w", f.server, err)
	}
	return cc, nil
}

// callCtx bounds one unary call.
func (f *clientFlags) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.timeout)
}

// bearerToken sends the token with every call, only over TLS.
type bearerToken string

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return true }

// callError turns a call's error into one a person can act on; what names
// the command ("approvals approve").
func (f *clientFlags) callError(what string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("cannot reach control plane at %s: %s", f.server, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("cannot reach control plane at %s: no answer within %v", f.server, f.timeout)
	case codes.PermissionDenied:
		return fmt.Errorf("permission denied: %s %s", what, st.Message())
	case codes.Unauthenticated:
		return fmt.Errorf("not authenticated: %s (check --token-file %s)", st.Message(), f.tokenFile)
	case codes.NotFound:
		return fmt.Errorf("%s: %s", what, st.Message())
	}
	return fmt.Errorf("%s: %s", what, st.Message())
}

// listPages calls page with successive page tokens until the server has no
// more or limit items are in, and returns at most limit items. what names
// the command in errors.
func listPages[T any](ctx context.Context, f *clientFlags, what string, limit uint32, page func(context.Context, string) ([]T, string, error)) ([]T, error) {
	var all []T
	tok := ""
	for {
		cctx, cancel := f.callCtx(ctx)
		items, next, err := page(cctx, tok)
		cancel()
		if err != nil {
			return nil, f.callError(what, err)
		}
		all = append(all, items...)
		if tok = next; tok == "" || uint32(len(all)) >= limit {
			break
		}
	}
	if uint32(len(all)) > limit {
		all = all[:limit]
	}
	return all, nil
}
