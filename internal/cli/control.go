// SPDX-License-Identifier: Apache-2.0

// interlock control: serve the control plane; interlock control token:
// make a node bootstrap token.

package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/interlockhq/interlock/control"
	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/pki"
	"github.com/interlockhq/interlock/control/store"
)

// controlFlags are the flags of `interlock control`.
type controlFlags struct {
	listen        string
	metricsListen string
	dataDir       string
	serverNames   []string
	oidcIssuer    string
	oidcAudience  string
	oidcJWKSURL   string
	oidcRoles     []string
}

// Where `interlock control` keeps things under --data-dir.
func storeDir(dataDir string) string       { return filepath.Join(dataDir, "store") }
func pkiDir(dataDir string) string         { return filepath.Join(dataDir, "pki") }
func adminTokenPath(dataDir string) string { return filepath.Join(dataDir, "admin.token") }

func newControl(g *globals, stdout io.Writer) *cobra.Command {
	f := &controlFlags{}
	cmd := &cobra.Command{
		Use:   "control",
		Short: "Run the control plane: policies, approvals, session ingest and audit",
		Long: `Run the control plane. It keeps its state under --data-dir: a SQLite
database and chunk files (store/), its certificate authority (pki/; clients
trust pki/ca.crt), and the local admin credential (admin.token, mode 0600),
created on first start.

People authenticate with OIDC bearer tokens (--oidc-issuer, --oidc-audience;
--oidc-role maps claims to roles) or, on this machine, with the local admin
credential. Nodes enrol with a bootstrap token from 'interlock control token'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), g, stdout)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", defaultListen, "address to serve gRPC (TLS) on")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "directory for the store, the CA and the admin credential")
	fl.StringVar(&f.metricsListen, "metrics-listen", "", "address of /metrics, /healthz and /readyz, e.g. 127.0.0.1:9465 (empty: off)")
	fl.StringSliceVar(&f.serverNames, "server-name", nil, "extra DNS names or IPs for the server certificate (the listen host, localhost and loopback are always in)")
	fl.StringVar(&f.oidcIssuer, "oidc-issuer", "", "issuer (iss) of people's bearer tokens; empty accepts only the local admin credential")
	fl.StringVar(&f.oidcAudience, "oidc-audience", "", "audience (aud) people's tokens must carry")
	fl.StringVar(&f.oidcJWKSURL, "oidc-jwks-url", "", "signing keys URL; default: found by OIDC discovery at the issuer (Entra v1 issuers need it)")
	fl.StringArrayVar(&f.oidcRoles, "oidc-role", nil, "role=claim:value, e.g. approver=groups:sec-oncall (repeatable)")
	cmd.AddCommand(newControlToken(stdout))
	return cmd
}

func (f *controlFlags) run(ctx context.Context, g *globals, stdout io.Writer) error {
	cp, err := f.start(ctx, g)
	if err != nil {
		return err
	}
	defer cp.close()
	fmt.Fprintf(stdout, "control plane listening on %s\nadmin credential: %s\nCA certificate: %s\n",
		cp.lis.Addr(), adminTokenPath(f.dataDir), cp.ca.ControlCAPath())
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return cp.srv.Serve(ctx, cp.lis) })
	if f.metricsListen != "" {
		eg.Go(func() error { return serveHTTP(ctx, f.metricsListen, cp.srv.HealthHandler()) })
	}
	return eg.Wait()
}

// controlPlane is a started control plane, not yet serving.
type controlPlane struct {
	st         *store.DB
	ca         *pki.Authority
	srv        *control.Server
	lis        net.Listener
	adminToken string
}

func (cp *controlPlane) close() {
	cp.srv.Close()
	cp.st.Close()
}

// start opens the store, the CA and the admin credential and makes the
// server and its listener; Serve on them runs it.
func (f *controlFlags) start(ctx context.Context, g *globals) (_ *controlPlane, err error) {
	var bindings []auth.Binding
	for _, r := range f.oidcRoles {
		b, err := auth.ParseBinding(r)
		if err != nil {
			return nil, usageErrorf("--oidc-role: %v", err)
		}
		bindings = append(bindings, b)
	}
	if (f.oidcIssuer == "") != (f.oidcAudience == "") {
		return nil, usageErrorf("--oidc-issuer and --oidc-audience go together")
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return nil, usageErrorf("--listen %q: want host:port", f.listen)
	}
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cp := &controlPlane{}
	if cp.st, err = store.Open(ctx, storeDir(f.dataDir)); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			cp.st.Close()
		}
	}()
	if cp.ca, err = pki.Load(pkiDir(f.dataDir), "Interlock"); err != nil {
		return nil, err
	}
	if cp.adminToken, err = auth.LoadOrCreateAdminToken(adminTokenPath(f.dataDir)); err != nil {
		return nil, err
	}
	var oidc *auth.OIDC
	if f.oidcIssuer != "" {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		oidc, err = auth.NewOIDC(dctx, auth.OIDCConfig{Issuer: f.oidcIssuer, Audience: f.oidcAudience, JWKSURL: f.oidcJWKSURL, Bindings: bindings})
		cancel()
		if err != nil {
			return nil, err
		}
	}
	if cp.srv, err = control.New(control.Config{
		Store:       cp.st,
		Authority:   cp.ca,
		ServerNames: serverNames(host, f.serverNames),
		Validate:    validatePolicy,
		OIDC:        oidc,
		AdminToken:  cp.adminToken,
		Logger:      g.log,
	}); err != nil {
		return nil, err
	}
	if cp.lis, err = net.Listen("tcp", f.listen); err != nil {
		cp.srv.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	return cp, nil
}

func serverNames(listenHost string, extra []string) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if ip := net.ParseIP(listenHost); listenHost != "" && (ip == nil || !ip.IsUnspecified()) {
		names = append(names, listenHost)
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h)
	}
	names = append(names, extra...)
	slices.Sort(names)
	return slices.Compact(names)
}

func newControlToken(stdout io.Writer) *cobra.Command {
	var dataDir, comment string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make a one-time node bootstrap token (printed once, stored hashed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := store.Open(cmd.Context(), storeDir(dataDir))
			if err != nil {
				return err
			}
			defer st.Close()
			tok, err := control.NewBootstrapToken(cmd.Context(), st, ttl, comment)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, tok)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir, "the control plane's data directory")
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token may be used")
	cmd.Flags().StringVar(&comment, "comment", "", "what the token is for, kept with it")
	return cmd
}
