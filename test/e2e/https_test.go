// SPDX-License-Identifier: Apache-2.0

// Acceptance of HTTPS enforcement: the unmodified SDK agent in a simulated
// pod (its own network namespace, Azure's names pointing at azurefake),
// intercepted by the real node (eBPF, TLS termination, policy from the real
// control plane, approvals by a person through the control API, spool and
// upload), with every outcome checked on the wire and in the recording.

package e2e_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/bpf/bpftest"
	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/workload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/e2e/plane"
	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/sdkagent"
	"github.com/interlockhq/interlock/test/testca"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

const httpsPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: agents}
targets:
  - name: arm
    protocol: https
    hosts: [management.azure.com]
    credential: %s
identity:
  issuers:
    - {issuer: "%[2]s", audience: "https://management.core.windows.net/", jwksUrl: "%[3]s"}
rules:
  - name: no-rg-delete
    when: arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
    action: deny
    message: Agents may not delete resource groups.
  - name: key-rotation-needs-approval
    when: arm.operation.endsWith("/regenerateKey/action")
    action: approve
    approval: {approvers: ["group:approvers"], minApprovals: 1, timeout: 10m, grantFor: 15m, hold: 20s}
  - name: agents-may-work
    when: arm.operation != ""
    action: allow
defaultAction: deny
`

// azureClient routes the node's own requests for Azure's names to
// azurefake and trusts its CA: the node's view of Azure.
func azureClient(srv *azurefake.Server) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: srv.CA().Pool()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Addr().String())
		},
	}}
}

type httpsEnv struct {
	p     *plane.Plane
	srv   *azurefake.Server
	pod   *podsim.Workload
	node  *nodeagent.Node
	agent string
	env   []string
	admin *grpc.ClientConn
}

// envSpec says how startEnv seeds azurefake and what policy it pushes.
type envSpec struct {
	pod  string            // the podsim pod's name
	seed azurefake.Options // CA and Addr are set by startEnv
	// policy returns the policy to push; state is a private directory for
	// files the policy names (the node's secret).
	policy func(srv *azurefake.Server, state string) string
}

// startEnv starts the control plane, azurefake on the host side of a
// pod's veth, and the node; pushes the policy; and intercepts the pod.
func startEnv(t *testing.T, spec envSpec) *httpsEnv {
	t.Helper()
	bpftest.Require(t)
	p := plane.Start(t, nil)

	// The pod reaches Azure (azurefake) over its veth, as a pod reaches
	// the internet through its node.
	pod := podsim.Start(t, podsim.Options{Name: spec.pod, Veth: true})
	ca, err := testca.New("azure")
	if err != nil {
		t.Fatal(err)
	}
	seed := spec.seed
	seed.CA, seed.Addr = ca, netip443(pod.HostAddr().String())
	srv, err := azurefake.Start(t.Context(), seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1 localhost\n::1 localhost\n")
	for name, ip := range srv.Hosts() {
		fmt.Fprintf(&hosts, "%s %s\n", ip, name)
	}
	if err := os.WriteFile(pod.HostsFile(), []byte(hosts.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	state := t.TempDir()
	hc := azureClient(srv)
	node, err := nodeagent.NewNode(t.Context(), nodeagent.NodeConfig{
		Agent: nodeagent.Config{
			BPF: bpf.Config{PinDir: bpftest.PinDir()}, ProxyPort: freeLoopbackPort(t), DetachOnExit: true, Logger: testLogger(t),
		},
		StateDir:      filepath.Join(state, "node"),
		Control:       clientConfig(t, p),
		Enroll:        controlclient.EnrollConfig{NodeName: "node-a", BootstrapToken: p.BootstrapToken(), ControlCA: p.CAPEM},
		UpstreamRoots: srv.CA().Pool(),
		HTTPClient:    hc,
		Azure:         identity.AzureOptions{ClientOptions: azcore.ClientOptions{Transport: hc}},
	})
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, node)

	admin := p.Person(p.Token("alice", plane.GroupAdmins))
	if _, err := interlockv1.NewPolicyServiceClient(admin).Push(t.Context(), &interlockv1.PushPolicyRequest{
		Documents: []*interlockv1.PolicyDocument{{Name: spec.pod + ".yaml", Yaml: []byte(spec.policy(srv, state))}},
	}); err != nil {
		t.Fatalf("push policy: %v", err)
	}
	waitReady(t, node)

	// The pod is intercepted as a pod: listeners in its network namespace.
	if _, err := node.Agent.Attach(t.Context(), podWorkload(t, pod)); err != nil {
		t.Fatal(err)
	}

	// The agent trusts the workload root (for terminated targets) and
	// Azure's CA (for what passes through untouched, login).
	home := t.TempDir()
	bundle := filepath.Join(home, "ca.pem")
	id, err := controlclient.LoadIdentity(filepath.Join(state, "node"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle, append(append([]byte{}, id.WorkloadCAPEM...), srv.CA().CertPEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	c := srv.Clients()[0]
	env := sdkagent.Env(home, bundle, sdkagent.Identity{TenantID: srv.TenantID(), ClientID: c.ID, SubscriptionID: srv.SubscriptionID(), ClientSecret: c.Secret})
	return &httpsEnv{p: p, srv: srv, pod: pod, node: node, agent: sdkagent.BuildT(t), env: env, admin: admin}
}

// startHTTPSEnv is startEnv with ARM seeded and httpsPolicy pushed, the
// target's credential passthrough or inject (the node's own: the second
// client's secret).
func startHTTPSEnv(t *testing.T, credential string) *httpsEnv {
	t.Helper()
	return startEnv(t, envSpec{
		pod: "sdkpod",
		seed: azurefake.Options{
			Clients:        []azurefake.Client{{}, {}},
			ResourceGroups: []string{"rg-a", "rg-b"}, StorageAccounts: []azurefake.StorageAccount{{ResourceGroup: "rg-a", Name: "agentstore"}},
		},
		policy: func(srv *azurefake.Server, state string) string {
			cred := "{mode: passthrough}"
			if credential == "inject" {
				secret := filepath.Join(state, "node-secret")
				if err := os.WriteFile(secret, []byte(srv.Clients()[1].Secret), 0o600); err != nil {
					t.Fatal(err)
				}
				cred = fmt.Sprintf("{mode: inject, azure: {type: clientSecret, tenantId: %s, clientId: %s, secretFile: %s}}", srv.TenantID(), srv.Clients()[1].ID, secret)
			}
			return fmt.Sprintf(httpsPolicy, cred, srv.IssuerV1(), srv.JWKSURL())
		},
	})
}

func netip443(host string) string { return net.JoinHostPort(host, "443") }

// waitReady waits until the node enforces a policy and is ready.
func waitReady(t *testing.T, n *nodeagent.Node) {
	t.Helper()
	h := n.HealthHandler()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready: %s", rec.Body.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func podWorkload(t *testing.T, pod *podsim.Workload) workload.Workload {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(pod.NetnsPath(), &st); err != nil {
		t.Fatal(err)
	}
	return workload.Workload{Kind: workload.KindPod, Name: "sdk-agent", Namespace: "agents", PodUID: "0d5e4c1a",
		ServiceAccount: "agent", CgroupPath: pod.CgroupPath(), CgroupID: pod.CgroupID(), NetnsPath: pod.NetnsPath(), NetnsInode: st.Ino}
}

// run runs the agent's steps in the pod.
func (e *httpsEnv) run(t *testing.T, steps ...string) []sdkagent.Line {
	t.Helper()
	lines, _, _ := sdkagent.Run(t, e.pod.Start, e.agent, e.env, 2*time.Minute, steps...)
	return lines
}

// decide waits for a pending approval of operation and has bob (an
// approver, not the agent) approve or deny it through the control API.
func (e *httpsEnv) decide(t *testing.T, operationSuffix string, approve bool) string {
	t.Helper()
	bob := interlockv1.NewApprovalServiceClient(e.p.Person(e.p.Token("bob", plane.GroupApprovers)))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, err := bob.List(t.Context(), &interlockv1.ListApprovalsRequest{State: interlockv1.ApprovalState_APPROVAL_STATE_PENDING})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list.GetApprovals() {
			if strings.HasSuffix(a.GetOperation(), operationSuffix) {
				if _, err := bob.Decide(t.Context(), &interlockv1.DecideRequest{Id: a.GetId(), Approve: approve, Comment: "checked by bob"}); err != nil {
					t.Fatalf("decide: %v", err)
				}
				return a.GetId()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pending approval for %s", operationSuffix)
	return ""
}

func TestHTTPSAcceptance(t *testing.T) {
	e := startHTTPSEnv(t, "passthrough")
	lines := e.run(t, "list-groups", "delete-group", "rg-b", "create-storage", "rg-a", "newstore")
	if len(lines) != 3 {
		t.Fatalf("agent printed %d lines: %+v", len(lines), lines)
	}
	if !lines[0].OK || !strings.Contains(string(lines[0].Result), "rg-b") {
		t.Errorf("list-groups: %+v", lines[0])
	}
	if lines[1].OK || lines[1].Error == nil || lines[1].Error.Code != "RequestDisallowedByInterlock" || lines[1].Error.Status != 403 {
		t.Errorf("delete-group: %+v, want a ResponseError RequestDisallowedByInterlock", lines[1])
	}
	if n := e.srv.Count("DELETE", "/resourcegroups/"); n != 0 {
		t.Errorf("azurefake saw %d resource group DELETEs", n)
	}
	if !lines[2].OK {
		t.Errorf("create-storage (a long-running operation): %+v", lines[2])
	}
	polls := e.srv.Count("GET", "/operations/") + e.srv.Count("GET", "/operationresults/") + e.srv.Count("GET", "/asyncoperations/")
	if polls == 0 {
		t.Errorf("azurefake saw no LRO polls")
	}

	// Approval: held, approved by bob through the control plane, then the
	// SDK call succeeds; the same with a deny.
	type result struct{ lines []sdkagent.Line }
	res := make(chan result, 1)
	go func() { res <- result{e.run(t, "regenerate-key", "rg-a", "agentstore", "key1")} }()
	e.decide(t, "/regenerateKey/action", true)
	if got := (<-res).lines; len(got) != 1 || !got[0].OK {
		t.Errorf("regenerate-key after approval: %+v", got)
	}
	go func() { res <- result{e.run(t, "regenerate-key", "rg-a", "agentstore", "key2")} }()
	e.decide(t, "/regenerateKey/action", false)
	if got := (<-res).lines; len(got) != 1 || got[0].OK || got[0].Error.Code != "ApprovalDenied" {
		t.Errorf("regenerate-key after a deny: %+v", got)
	}
	if n := e.srv.Count("POST", "/regenerateKey"); n != 1 {
		t.Errorf("azurefake saw %d regenerateKey calls, want 1 (the approved one)", n)
	}

	// The recording, as the control plane holds it.
	evs := e.recording(t, 3) // one ARM connection per agent run
	var decisions []string
	var pollsRecorded int
	for _, ev := range evs {
		if d := ev.GetDecision(); d != nil && d.GetRule() != "" {
			decisions = append(decisions, d.GetRule()+"/"+d.GetOutcome().String())
		}
		if r := ev.GetHttpRequest(); r != nil && r.GetMethod() == "GET" && strings.Contains(strings.ToLower(r.GetPath()), "operation") {
			pollsRecorded++
		}
	}
	for _, want := range []string{"no-rg-delete/ACTION_DENY", "key-rotation-needs-approval/ACTION_ALLOW", "key-rotation-needs-approval/ACTION_DENY", "agents-may-work/ACTION_ALLOW"} {
		if !strings.Contains(strings.Join(decisions, " "), want) {
			t.Errorf("recording lacks decision %s; has %v", want, decisions)
		}
	}
	for _, ev := range evs {
		b, _ := proto.Marshal(ev)
		// A JWT starts with its base64url header: {"alg": or {"typ":.
		if strings.Contains(string(b), "eyJhbGciOi") || strings.Contains(string(b), "eyJ0eXAiOi") {
			t.Errorf("a bearer token appears in the recording: %s", b)
		}
		if strings.Contains(string(b), e.srv.Clients()[0].Secret) {
			t.Errorf("the agent's client secret appears in the recording: %s", b)
		}
	}
	// The node's metrics count the same outcomes.
	rec := httptest.NewRecorder()
	e.node.Agent.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metrics := rec.Body.String()
	for _, want := range []string{
		`interlock_proxy_requests_total{outcome="deny",rule="no-rg-delete",target="arm"} 1`,
		`interlock_proxy_approval_wait_seconds_count{state="approved"} 1`,
		`interlock_proxy_approval_wait_seconds_count{state="denied"} 1`,
		`interlock_node_policy_version 1`,
		`interlock_node_spool_pending_events 0`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "interlock_proxy_requests") || strings.HasPrefix(l, "interlock_node_spool") || strings.HasPrefix(l, "interlock_proxy_approval_wait_seconds_count") {
				t.Log(l)
			}
		}
	}
	if pollsRecorded != polls {
		t.Errorf("azurefake saw %d polls, the recording has %d", polls, pollsRecorded)
	}
}

func TestHTTPSInjectsNodeCredential(t *testing.T) {
	e := startHTTPSEnv(t, "inject")
	lines := e.run(t, "list-groups")
	if len(lines) != 1 || !lines[0].OK {
		t.Fatalf("list-groups with inject: %+v", lines)
	}
	agentApp, nodeApp := e.srv.Clients()[0].ID, e.srv.Clients()[1].ID
	var arm int
	for _, r := range e.srv.Requests() {
		if r.Host != azurefake.ARMHost {
			continue
		}
		arm++
		if r.Claims["appid"] != nodeApp {
			t.Errorf("azurefake saw ARM called with appid %v, want only the node's %s (the agent is %s)", r.Claims["appid"], nodeApp, agentApp)
		}
	}
	if arm == 0 {
		t.Error("azurefake saw no ARM request")
	}
}

// recording waits until the control plane holds at least n sessions of
// node-a that are complete, and returns their events.
func (e *httpsEnv) recording(t *testing.T, n int) []*interlockv1.SessionEvent {
	t.Helper()
	return recording(t, e.p, n)
}

// recording waits until p holds at least n complete sessions, and returns
// their events, read by an auditor through the control API.
func recording(t *testing.T, p *plane.Plane, n int) []*interlockv1.SessionEvent {
	t.Helper()
	audit := interlockv1.NewAuditServiceClient(p.Person(p.Token("carol", plane.GroupAuditors)))
	deadline := time.Now().Add(30 * time.Second)
	var sessions []*interlockv1.SessionSummary
	for time.Now().Before(deadline) {
		resp, err := audit.ListSessions(t.Context(), &interlockv1.ListSessionsRequest{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		sessions = sessions[:0]
		for _, s := range resp.GetSessions() {
			if s.GetComplete() {
				sessions = append(sessions, s)
			}
		}
		if len(sessions) >= n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(sessions) < n {
		t.Fatalf("the control plane holds %d complete sessions, want %d", len(sessions), n)
	}
	var out []*interlockv1.SessionEvent
	for _, s := range sessions {
		st, err := audit.ReadSession(t.Context(), &interlockv1.ReadSessionRequest{SessionId: s.GetSessionId()})
		if err != nil {
			t.Fatal(err)
		}
		for {
			ev, err := st.Recv()
			if err != nil {
				break
			}
			out = append(out, ev)
		}
	}
	return out
}

// freeLoopbackPort is a TCP port free on 127.0.0.1 and [::1] right now.
func freeLoopbackPort(t *testing.T) uint16 {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln6, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", port))
		ln.Close()
		if err == nil {
			ln6.Close()
			return uint16(port)
		}
	}
	t.Fatal("no free port")
	return 0
}

// runNode runs node until the test ends, and fails the test if it
// stopped with an error.
func runNode(t *testing.T, node *nodeagent.Node) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
	})
}
