// SPDX-License-Identifier: Apache-2.0

// interlock up --demo: everything on this machine plus fake Azure
// endpoints and an unmodified Azure SDK agent, walked through step by step.

package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/interlockhq/interlock/control"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/workload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/sdkagent"
	"github.com/interlockhq/interlock/test/testca"
)

// demoPolicy is the demo's policy; %[1]s is azurefake's v1 issuer, %[2]s
// its keys, %[3]s and %[4]s the PostgreSQL target and rules (empty
// without PostgreSQL).
const demoPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: demo}
targets:
  - name: arm
    protocol: https
    hosts: [management.azure.com]
  - name: keyvault
    protocol: https
    hosts: ["*.vault.azure.net"]
%[3]sidentity:
  issuers:
    - {issuer: "%[1]s", audience: "https://management.core.windows.net/", jwksUrl: "%[2]s"}
    - {issuer: "%[1]s", audience: "https://vault.azure.net", jwksUrl: "%[2]s"}
rules:
%[4]s  - name: no-rg-delete
    when: arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
    action: deny
    message: Agents may not delete resource groups.
  - name: key-rotation-needs-approval
    when: arm.operation.endsWith("/regenerateKey/action")
    action: approve
    approval: {approvers: ["user:local-admin", "group:sec-oncall"], minApprovals: 1, timeout: 10m, grantFor: 15m, hold: 30s}
  - name: mask-storage-keys
    when: arm.operation == "Microsoft.Storage/storageAccounts/listKeys/action"
    action: allow
    mask: [{jsonPath: "$.keys[*].value"}]
  - name: mask-secret-values
    when: arm.operation == "Microsoft.KeyVault/vaults/secrets/getSecret/action"
    action: allow
    mask: [{jsonPath: "$.value"}]
  - name: agents-may-read
    when: arm.operation.endsWith("/read") || arm.operation.endsWith("/getSecret/action")
    action: allow
defaultAction: deny
masking: {detectors: [azure-storage-key, azure-connection-string, jwt, private-key]}
`

// demoStep is one thing the demo agent does, and what the reader should
// expect.
type demoStep struct {
	say  string
	args []string
}

var demoSteps = []demoStep{
	{"list resource groups — the policy lets agents read", []string{"list-groups"}},
	{"read the storage account keys — allowed, but every key value is masked", []string{"list-keys", "rg-agents", "agentstore"}},
	{"delete a resource group — the policy forbids it", []string{"delete-group", "rg-agents"}},
	{"rotate a storage key — held until a person approves it", []string{"regenerate-key", "rg-agents", "agentstore", "key1"}},
	{"read a Key Vault secret — allowed, the value is masked", []string{"get-secret", "demo-kv", "db-password"}},
}

// runDemo runs the demo and returns when it is done or ctx ends.
func (f *upFlags) runDemo(ctx context.Context, g *globals, stdout io.Writer) (err error) {
	say := func(format string, args ...any) { fmt.Fprintf(stdout, format+"\n", args...) }
	tmp, err := os.MkdirTemp("", "interlock-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if f.control.dataDir == defaultDataDir {
		f.control.dataDir = filepath.Join(tmp, "data") // the demo leaves nothing behind
	}

	say("== Interlock demo: an unmodified Azure SDK agent, intercepted on this machine")
	say("   Azure itself is not reachable here: a faithful stand-in (azurefake) answers for")
	say("   login.microsoftonline.com, management.azure.com and demo-kv.vault.azure.net.")
	ca, err := testca.New("azure (demo)")
	if err != nil {
		return err
	}
	srv, err := azurefake.Start(ctx, azurefake.Options{
		CA: ca, Clients: []azurefake.Client{{}}, ResourceGroups: []string{"rg-agents", "rg-prod"},
		StorageAccounts: []azurefake.StorageAccount{{ResourceGroup: "rg-agents", Name: "agentstore"}},
		Vaults:          []string{"demo-kv"},
		Secrets:         []azurefake.Secret{{Vault: "demo-kv", Name: "db-password", Value: "Sup3r-s3cret-" + randomWord()}},
	})
	if err != nil {
		return fmt.Errorf("fake Azure: %w", err)
	}
	defer srv.Close()
	db := startDemoDB(ctx, ca, say)
	var dbTarget, dbRules string
	if db != nil {
		defer db.Close()
		dbTarget, dbRules = db.target(), demoDBRules
	}

	policyFile := filepath.Join(tmp, "demo-policy.yaml")
	if err := os.WriteFile(policyFile, fmt.Appendf(nil, demoPolicy, srv.IssuerV1(), srv.JWKSURL(), dbTarget, dbRules), 0o644); err != nil {
		return err
	}
	f.policyFile = policyFile
	agentBin, err := sdkagent.Build(ctx, tmp)
	if err != nil {
		return fmt.Errorf("build the demo agent (needs the go toolchain): %w", err)
	}

	agentCfg, err := f.node.config()
	if err != nil {
		return err
	}
	agentCfg.Logger = g.log
	agentCfg.DetachOnExit = true
	if db != nil {
		// The throwaway server listens on a port of its own: intercept it
		// too (the node tells PostgreSQL by its first bytes).
		if len(agentCfg.BPF.Ports) == 0 {
			agentCfg.BPF.Ports = []uint16{443, 5432}
		}
		agentCfg.BPF.Ports = append(agentCfg.BPF.Ports, uint16(db.srv.Port()))
	}
	cp, err := f.control.start(ctx, g)
	if err != nil {
		return err
	}
	defer cp.close()
	eg, ctx := errgroup.WithContext(ctx)
	defer func() {
		if werr := eg.Wait(); err == nil && werr != nil && !errors.Is(werr, context.Canceled) {
			err = werr
		}
	}()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	eg.Go(func() error { return cp.srv.Serve(ctx, cp.lis) })
	addr := cp.lis.Addr().String()
	admin, err := adminConn(addr, cp.ca.ControlCAPEM(), cp.adminToken)
	if err != nil {
		return err
	}
	defer admin.Close()
	doc, _ := os.ReadFile(policyFile)
	if _, err := pushPolicyFile(ctx, interlockv1.NewPolicyServiceClient(admin), "demo-policy.yaml", doc); err != nil {
		return err
	}
	tok, err := control.NewBootstrapToken(ctx, cp.st, 10*time.Minute, "interlock demo")
	if err != nil {
		return err
	}
	node, err := nodeagent.NewNode(ctx, nodeagent.NodeConfig{
		Agent:         agentCfg,
		StateDir:      filepath.Join(f.control.dataDir, "node"),
		Control:       controlclient.Config{Server: addr, ServerName: "127.0.0.1", Logger: g.log},
		Enroll:        controlclient.EnrollConfig{NodeName: hostname(), BootstrapToken: tok, ControlCA: cp.ca.ControlCAPEM()},
		UpstreamRoots: ca.Pool(),
		HTTPClient:    azureHTTPClient(srv),
		Spool:         spool.Options{SyncInterval: f.node.spoolSync},
	})
	if err != nil {
		return err
	}
	eg.Go(func() error { return node.Run(ctx) })
	if err := waitNodeReady(ctx, node); err != nil {
		return err
	}
	say("   control plane and node are up; the demo policy is enforced (%s)", policyFile)

	// The agent's workload: its own cgroup and hosts file, on the host
	// network, as an agent on a VM.
	hosts := srv.Hosts()
	if db != nil {
		hosts[demoDBHost] = "127.0.0.1"
	}
	w, err := podsim.New(ctx, podsim.Options{Name: "demo-agent", HostNetwork: true, Hosts: hosts})
	if err != nil {
		return fmt.Errorf("agent workload: %w", err)
	}
	defer w.Close()
	if _, err := node.Agent.Attach(ctx, workload.Workload{Kind: workload.KindVM, Name: "demo-agent", CgroupPath: w.CgroupPath(), CgroupID: w.CgroupID()}); err != nil {
		return err
	}
	id, err := controlclient.LoadIdentity(filepath.Join(f.control.dataDir, "node"))
	if err != nil {
		return err
	}
	bundle := filepath.Join(tmp, "agent-ca.pem")
	if err := os.WriteFile(bundle, append(append([]byte{}, id.WorkloadCAPEM...), ca.CertPEM...), 0o644); err != nil {
		return err
	}
	c := srv.Clients()[0]
	env := sdkagent.Env(tmp, bundle, sdkagent.Identity{TenantID: srv.TenantID(), ClientID: c.ID, SubscriptionID: srv.SubscriptionID(), ClientSecret: c.Secret})
	say("   the agent is an unmodified Go program using azidentity, armresources, armstorage and")
	say("   azsecrets; it runs as workload demo-agent (app %s), trusting the node's CA.", c.ID)

	// The demo approver: a person (the local admin), not the agent.
	approvals := interlockv1.NewApprovalServiceClient(admin)
	eg.Go(func() error { return demoApprover(ctx, approvals, stdout) })

	for i, s := range demoSteps {
		say("")
		say("-- step %d: %s", i+1, s.say)
		if err := runDemoStep(ctx, w, agentBin, env, s.args, stdout); err != nil {
			return err
		}
	}
	for i, s := range demoDBSteps {
		say("")
		if db == nil {
			say("-- step %d: %s — SKIPPED: PostgreSQL is not installed (see above)", len(demoSteps)+i+1, s.say)
			continue
		}
		say("-- step %d: %s", len(demoSteps)+i+1, s.say)
		if err := db.runStep(ctx, w, filepath.Join(f.control.dataDir, "node", nodeagent.WorkloadBundleFile), s.sql, stdout); err != nil {
			return err
		}
	}

	say("")
	say("== what was recorded (interlock sessions list / replay, as an auditor would):")
	cli := []string{"--server", addr, "--ca", cp.ca.ControlCAPath(), "--token-file", adminTokenPath(f.control.dataDir)}
	// Every step's session is uploaded before anyone looks: the node seals
	// and sends what it recorded, and the control plane acknowledges it.
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	err = flushDemo(fctx, node, say)
	fcancel()
	if err != nil {
		return err
	}
	if err := waitRecorded(ctx, admin, 1); err != nil {
		return err
	}
	var list strings.Builder
	if err := Run(ctx, append([]string{"sessions", "list"}, cli...), strings.NewReader(""), io.MultiWriter(stdout, &list), stdout); err != nil {
		return err
	}
	if first := firstSessionID(list.String()); first != "" {
		say("")
		say("== replay of session %s:", first)
		if err := Run(ctx, append([]string{"sessions", "replay", first}, cli...), strings.NewReader(""), stdout, stdout); err != nil {
			return err
		}
	}
	say("")
	say("== evidence (interlock audit export / verify, as an auditor would, offline):")
	if err := demoEvidence(ctx, tmp, cli, stdout); err != nil {
		return err
	}
	say("")
	say("== demo done: stopping everything (interception, cgroups and the demo's files are removed)")
	stop()
	return nil
}

// demoEvidence exports every session as an evidence bundle and verifies
// it with the log key, which an auditor would get from the operator.
func demoEvidence(ctx context.Context, tmp string, cli []string, stdout io.Writer) error {
	var key strings.Builder
	if err := Run(ctx, append([]string{"audit", "checkpoint", "--verifier-key"}, cli...), strings.NewReader(""), &key, stdout); err != nil {
		return err
	}
	keyFile, bundle := filepath.Join(tmp, "log.pub"), filepath.Join(tmp, "evidence.tar")
	if err := os.WriteFile(keyFile, []byte(key.String()), 0o644); err != nil {
		return err
	}
	if err := Run(ctx, append([]string{"audit", "export", "-o", bundle}, cli...), strings.NewReader(""), stdout, stdout); err != nil {
		return err
	}
	return Run(ctx, append([]string{"audit", "verify", bundle, "--key", keyFile}, cli...), strings.NewReader(""), stdout, stdout)
}

// runDemoStep runs one agent step and says what happened in plain words.
func runDemoStep(ctx context.Context, w *podsim.Workload, bin string, env, args []string, stdout io.Writer) error {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := w.Start(cmd); err != nil {
		return err
	}
	_ = cmd.Wait() // a failed step is an outcome, not an error
	lines, err := sdkagent.ParseLines([]byte(out.String()))
	if err != nil || len(lines) != 1 {
		return fmt.Errorf("demo agent %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	l := lines[0]
	switch {
	case l.OK:
		fmt.Fprintf(stdout, "   allowed: the agent got %s\n", compact(string(l.Result), 240))
		if strings.Contains(string(l.Result), "[MASKED") {
			fmt.Fprintln(stdout, "   masked: the secret values above were replaced before they left the node (and in the recording)")
		}
	case l.Error != nil:
		fmt.Fprintf(stdout, "   blocked: the SDK returned %d %s: %s\n", l.Error.Status, l.Error.Code, l.Error.Message)
	}
	return nil
}

// demoApprover approves every pending request, as a person would, saying
// who it is.
func demoApprover(ctx context.Context, approvals interlockv1.ApprovalServiceClient, stdout io.Writer) error {
	st, err := approvals.Watch(ctx, &interlockv1.WatchApprovalsRequest{PendingOnly: true})
	if err != nil {
		return err
	}
	for {
		a, err := st.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if a.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_PENDING {
			continue
		}
		fmt.Fprintf(stdout, "   held: approval %s requested by %s for %s (rule %s)\n", a.GetId(), a.GetRequester().GetAppId(), a.GetOperation(), a.GetRule())
		time.Sleep(time.Second) // a person takes a moment
		if _, err := approvals.Decide(ctx, &interlockv1.DecideRequest{Id: a.GetId(), Approve: true, Comment: "demo approver: looks fine"}); err != nil {
			return fmt.Errorf("demo approver: %w", err)
		}
		fmt.Fprintf(stdout, "   approved: by the demo approver (local-admin, a person — not the agent's identity)\n")
	}
}

func waitNodeReady(ctx context.Context, n *nodeagent.Node) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if n.Agent.Ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return errors.New("the node did not become ready in 30 s")
}

// flushDemo waits (5 s at most) for the agent's connections, gone with
// its processes, to close their sessions on the node, then flushes the
// node's recording to the control plane.
func flushDemo(ctx context.Context, node *nodeagent.Node, say func(string, ...any)) error {
	deadline := time.Now().Add(5 * time.Second)
	for node.OpenSessions() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := node.OpenSessions(); n > 0 {
		say("   (%d sessions still open on the node: listed as open)", n)
	}
	return node.Flush(ctx)
}

// waitRecorded waits until the control plane holds n complete sessions.
func waitRecorded(ctx context.Context, admin grpc.ClientConnInterface, n int) error {
	audit := interlockv1.NewAuditServiceClient(admin)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := audit.ListSessions(ctx, &interlockv1.ListSessionsRequest{PageSize: 100})
		if err == nil {
			complete := 0
			for _, s := range resp.GetSessions() {
				if s.GetComplete() {
					complete++
				}
			}
			if complete >= n {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("no session reached the control plane in 30 s")
}

// firstSessionID is the first session id in `sessions list` table output.
func firstSessionID(table string) string {
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 2 {
		return ""
	}
	f := strings.Fields(lines[len(lines)-1])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func compact(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// azureHTTPClient reaches Azure's names at srv, trusting its CA: how the
// node fetches token signing keys in the demo.
func azureHTTPClient(srv *azurefake.Server) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: srv.CA().Pool()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Addr().String())
		},
	}}
}

// randomWord is 8 random letters: the demo secret differs every run.
func randomWord() string { return strings.ToLower(rand.Text()[:8]) }
