// SPDX-License-Identifier: Apache-2.0

// interlock up: the control plane and a node in one process on this
// machine, with a policy file watched for changes.

package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/control"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// policyPollInterval is how often `interlock up` looks at its policy file.
const policyPollInterval = time.Second

type upFlags struct {
	demo       bool
	control    controlFlags
	node       nodeFlags
	policyFile string
	keepPins   bool
}

func newUp(g *globals, stdout io.Writer) *cobra.Command {
	f := &upFlags{}
	cmd := &cobra.Command{
		Use:   "up --policy FILE",
		Short: "Run the control plane and a node on this machine, in one process",
		Long: `Run everything on this machine: the control plane (its embedded store under
--data-dir) and a node that enrols with it, intercepts this machine's
workloads and enforces the policy in --policy, which is pushed at start
and again whenever the file changes.

Run agents with 'interlock exec --workload NAME -- CMD...': they trust the
CA bundle printed at start. People use the printed admin credential with
'interlock approvals', 'interlock sessions' and 'interlock policy'.
Ctrl-C stops both; interception is removed unless --keep-interception.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), g, stdout)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.policyFile, "policy", "", "policy file to enforce (watched for changes); required unless --demo")
	fl.BoolVar(&f.demo, "demo", false, "run the demo: fake Azure endpoints, an unmodified Azure SDK agent walked through allowed, masked, blocked and approved requests, then the recording; leaves nothing behind (logs at warn unless --log-level)")
	fl.StringVar(&f.control.listen, "listen", defaultListen, "address of the control plane's API")
	fl.StringVar(&f.control.dataDir, "data-dir", defaultDataDir, "directory for the control plane's store, CA and admin credential, and the node's state")
	fl.BoolVar(&f.keepPins, "keep-interception", false, "leave interception pinned when stopping (workloads then fail closed until the next start)")
	fl.StringVar(&f.node.pinDir, "pin-dir", "/sys/fs/bpf/interlock", "bpffs directory where interception is pinned")
	fl.UintSliceVar(&f.node.ports, "ports", []uint{443, 5432}, "destination ports to intercept")
	fl.Uint16Var(&f.node.proxyPort, "proxy-port", nodeagent.DefaultProxyPort, "loopback port of the proxy listeners")
	fl.StringArrayVar(&f.node.workloads, "workload", nil, "a VM workload to intercept, NAME=CGROUP (repeatable)")
	fl.StringArrayVar(&f.node.units, "unit", nil, "a VM workload to intercept by systemd unit, NAME=UNIT (repeatable)")
	fl.StringArrayVar(&f.node.failOpen, "fail-open", nil, "a workload NAME whose connections pass uninspected while the proxy is down (repeatable)")
	fl.StringVar(&f.node.socket, "socket", nodeagent.DefaultSocket, "unix socket of the node's local API (used by interlock exec)")
	fl.StringVar(&f.node.metricsListen, "metrics-listen", "127.0.0.1:9464", "address of the node's /metrics, /healthz and /readyz (empty: off)")
	fl.StringVar(&f.control.metricsListen, "control-metrics-listen", "127.0.0.1:9465", "address of the control plane's /metrics, /healthz and /readyz (empty: off)")
	fl.DurationVar(&f.node.spoolSync, "spool-sync-interval", nodeagent.DefaultSpoolSyncInterval, "how far behind the recording spool's fsyncs may run (0: fsync every event)")
	fl.DurationVar(&f.node.drain, "drain-timeout", nodeagent.DefaultDrainTimeout, "how long connections in flight may finish when stopping")
	return cmd
}

func (f *upFlags) run(ctx context.Context, g *globals, stdout io.Writer) error {
	if f.demo {
		if f.policyFile != "" {
			return usageErrorf("--demo brings its own policy: drop --policy")
		}
		return f.runDemo(ctx, g, stdout)
	}
	if f.policyFile == "" {
		return usageErrorf("--policy FILE is required: the policy to enforce (see deploy/kubernetes/base/policy.yaml for a starter)")
	}
	doc, err := os.ReadFile(f.policyFile)
	if err != nil {
		return fmt.Errorf("--policy: %w", err)
	}
	if err := validatePolicy([]*interlockv1.PolicyDocument{{Name: f.policyFile, Yaml: doc}}); err != nil {
		return fmt.Errorf("--policy %s is not valid: %w", f.policyFile, err)
	}
	agent, err := f.node.config()
	if err != nil {
		return err
	}
	agent.Logger = g.log
	agent.DetachOnExit = !f.keepPins

	cp, err := f.control.start(ctx, g)
	if err != nil {
		return err
	}
	defer cp.close()
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return cp.srv.Serve(ctx, cp.lis) })
	addr := cp.lis.Addr().String()

	admin, err := adminConn(addr, cp.ca.ControlCAPEM(), cp.adminToken)
	if err != nil {
		return err
	}
	defer admin.Close()
	pol := interlockv1.NewPolicyServiceClient(admin)
	if _, err := pushPolicyFile(ctx, pol, f.policyFile, doc); err != nil {
		return err
	}

	state := filepath.Join(f.control.dataDir, "node")
	nc := nodeagent.NodeConfig{
		Agent:    agent,
		StateDir: state,
		Control:  controlclient.Config{Server: addr, ServerName: "127.0.0.1", Logger: g.log},
		Enroll:   controlclient.EnrollConfig{NodeName: hostname(), ControlCA: cp.ca.ControlCAPEM()},
		Spool:    spool.Options{SyncInterval: f.node.spoolSync},
	}
	if _, err := controlclient.LoadIdentity(state); errors.Is(err, controlclient.ErrNotEnrolled) {
		if nc.Enroll.BootstrapToken, err = control.NewBootstrapToken(ctx, cp.st, 10*time.Minute, "interlock up"); err != nil {
			return err
		}
	}
	n, err := nodeagent.NewNode(ctx, nc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `interlock up: running
  control plane API:      %s (CA %s)
  admin credential:       %s
  policy:                 %s (watched; pushed again when it changes)
  CA bundle for workloads: %s
  metrics and health:     node http://%s/metrics, /healthz, /readyz; control plane http://%s/metrics
  run an agent:           interlock exec --workload NAME -- CMD...
  watch approvals:        interlock approvals watch --server %s --ca %s --token-file %s
`, addr, cp.ca.ControlCAPath(), adminTokenPath(f.control.dataDir), f.policyFile,
		filepath.Join(state, nodeagent.WorkloadBundleFile), f.node.metricsListen, f.control.metricsListen,
		addr, cp.ca.ControlCAPath(), adminTokenPath(f.control.dataDir))

	eg.Go(func() error { return n.Run(ctx) })
	eg.Go(func() error { return n.Agent.ServeAPI(ctx, f.node.socket) })
	if f.node.metricsListen != "" {
		eg.Go(func() error { return serveHTTP(ctx, f.node.metricsListen, n.Agent.HealthHandler()) })
	}
	if f.control.metricsListen != "" {
		eg.Go(func() error { return serveHTTP(ctx, f.control.metricsListen, cp.srv.HealthHandler()) })
	}
	eg.Go(func() error { return watchPolicyFile(ctx, pol, f.policyFile, doc, stdout) })
	err = eg.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// adminConn connects to the local control plane as its admin.
func adminConn(addr string, caPEM []byte, token string) (*grpc.ClientConn, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("control plane CA holds no certificate")
	}
	return grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})),
		grpc.WithPerRPCCredentials(bearerToken(token)))
}

// pushPolicyFile pushes one policy file and returns the new version.
func pushPolicyFile(ctx context.Context, pol interlockv1.PolicyServiceClient, name string, doc []byte) (uint64, error) {
	resp, err := pol.Push(ctx, &interlockv1.PushPolicyRequest{
		Documents: []*interlockv1.PolicyDocument{{Name: name, Yaml: doc}},
		Comment:   "interlock up: " + name,
	})
	if err != nil {
		return 0, fmt.Errorf("push %s: %s", name, status.Convert(err).Message())
	}
	return resp.GetBundle().GetVersion(), nil
}

// watchPolicyFile pushes the file again whenever its content changes. A
// file that does not validate is reported and not pushed: the previous
// policy stays in force.
func watchPolicyFile(ctx context.Context, pol interlockv1.PolicyServiceClient, name string, last []byte, stdout io.Writer) error {
	t := time.NewTicker(policyPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		doc, err := os.ReadFile(name)
		if err != nil || bytes.Equal(doc, last) {
			continue
		}
		last = doc
		v, err := pushPolicyFile(ctx, pol, name, doc)
		if err != nil {
			fmt.Fprintf(stdout, "interlock up: %s changed but was not pushed; the previous policy stays in force:\n%v\n", name, err)
			continue
		}
		fmt.Fprintf(stdout, "interlock up: %s changed: policy version %d pushed\n", name, v)
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
