// SPDX-License-Identifier: Apache-2.0

// Acceptance of proxy mode (no eBPF): the unmodified SDK agent through
// HTTPS_PROXY and the unmodified psql through a PostgreSQL listener, in
// VM-style workloads the node tells apart from /proc, enforced by a real
// node (TLS termination, policy from the real control plane, masking,
// spool and upload) exactly as in transparent mode; every outcome checked
// on the wire, on the server and in the recording read back through the
// control API. Everything listens on loopback.

package e2e_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/workload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/e2e/plane"
	"github.com/interlockhq/interlock/test/pgtest"
	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/sdkagent"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

// startProxyNode enrols and runs a node in proxy mode with p, its state
// in state; mod completes its configuration (upstream roots, clients).
func startProxyNode(t *testing.T, p *plane.Plane, state string, pc nodeagent.ProxyConfig, mod func(*nodeagent.NodeConfig)) *nodeagent.Node {
	t.Helper()
	pc.Logger = testLogger(t)
	nc := nodeagent.NodeConfig{
		Proxy:    &pc,
		StateDir: state,
		Control:  clientConfig(t, p),
		Enroll:   controlclient.EnrollConfig{NodeName: "node-p", BootstrapToken: p.BootstrapToken(), ControlCA: p.CAPEM},
	}
	if mod != nil {
		mod(&nc)
	}
	node, err := nodeagent.NewNode(t.Context(), nc)
	if err != nil {
		t.Fatal(err)
	}
	if node.Agent != nil || node.Proxy == nil {
		t.Fatalf("a node in proxy mode has Agent %v, Proxy %v; want only Proxy", node.Agent, node.Proxy)
	}
	runNode(t, node)
	return node
}

// resolveIn resolves the names in hosts (name → IP), as the node's DNS
// would; any other name fails.
func resolveIn(hosts map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := hosts[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, fmt.Errorf("%s: no such host in the test", host)
	}
}

// pushPolicy pushes one policy document as an admin.
func pushPolicy(t *testing.T, p *plane.Plane, name, yaml string) {
	t.Helper()
	admin := p.Person(p.Token("alice", plane.GroupAdmins))
	if _, err := interlockv1.NewPolicyServiceClient(admin).Push(t.Context(), &interlockv1.PushPolicyRequest{
		Documents: []*interlockv1.PolicyDocument{{Name: name, Yaml: []byte(yaml)}},
	}); err != nil {
		t.Fatalf("push policy: %v", err)
	}
}

// wantNotReadyForPolicy checks that node, with no policy yet, says it is
// not ready for that reason alone (no BPF condition in proxy mode).
func wantNotReadyForPolicy(t *testing.T, node *nodeagent.Node) {
	t.Helper()
	rec := httptest.NewRecorder()
	node.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || strings.TrimSpace(rec.Body.String()) != "not ready: "+nodeagent.CondPolicy {
		t.Errorf("/readyz before any policy: %d %q, want 503 naming only %q", rec.Code, rec.Body.String(), nodeagent.CondPolicy)
	}
	if node.Ready() {
		t.Error("the node says it is ready with no policy")
	}
}

// metricsOf returns node's /metrics.
func metricsOf(node *nodeagent.Node) string {
	rec := httptest.NewRecorder()
	node.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// tlsThroughConnect opens a CONNECT tunnel to host:443 through proxy and
// does a TLS handshake in it, trusting roots.
func tlsThroughConnect(ctx context.Context, proxy net.Addr, host string, roots *tls.Config) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", proxy.String())
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "CONNECT %s:443 HTTP/1.1\r\nHost: %[1]s:443\r\n\r\n", host)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("CONNECT: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CONNECT: %s", resp.Status)
	}
	cfg := roots.Clone()
	cfg.ServerName = host
	return tls.Client(c, cfg).HandshakeContext(ctx)
}

func TestProxyModeHTTPS(t *testing.T) {
	testenv.RequireRoot(t, "azurefake listens on port 443; podsim makes a cgroup; proxy mode reads other processes' sockets in /proc")
	p := plane.Start(t, nil)
	ca, err := testca.New("azure")
	if err != nil {
		t.Fatal(err)
	}
	// On a random 127.a.b.c:443; the node resolves Azure's names to it.
	srv, err := azurefake.Start(t.Context(), azurefake.Options{CA: ca, Clients: []azurefake.Client{{}}, ResourceGroups: []string{"rg-a", "rg-b"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w := podsim.Start(t, podsim.Options{Name: "proxysdk", HostNetwork: true})

	state := filepath.Join(t.TempDir(), "node")
	hc := azureClient(srv)
	node := startProxyNode(t, p, state, nodeagent.ProxyConfig{
		ConnectListen: "127.0.0.1:0",
		Discovery:     workload.Config{VMs: []workload.VM{{Name: "sdk-agent", Cgroup: w.CgroupPath()}}},
		Resolve:       resolveIn(srv.Hosts()),
	}, func(nc *nodeagent.NodeConfig) {
		nc.UpstreamRoots = srv.CA().Pool()
		nc.HTTPClient = hc
		nc.Azure = identity.AzureOptions{ClientOptions: azcore.ClientOptions{Transport: hc}}
	})
	id, err := controlclient.LoadIdentity(state)
	if err != nil {
		t.Fatal(err)
	}
	trust := &tls.Config{RootCAs: srv.CA().Pool()}
	if !trust.RootCAs.AppendCertsFromPEM(id.WorkloadCAPEM) {
		t.Fatal("no workload CA in the node's identity")
	}

	// Fail closed: no policy yet, so nothing can be decided: CONNECT is
	// refused with a 503 that says so.
	wantNotReadyForPolicy(t, node)
	if err := tlsThroughConnect(t.Context(), node.Proxy.ConnectAddr(), azurefake.ARMHost, trust); err == nil || !strings.Contains(err.Error(), "CONNECT: 503") {
		t.Errorf("CONNECT to ARM with no policy loaded: %v, want a 503 refusal", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("azurefake saw %d requests before the node had a policy", n)
	}

	pushPolicy(t, p, "agents.yaml", fmt.Sprintf(httpsPolicy, "{mode: passthrough}", srv.IssuerV1(), srv.JWKSURL()))
	waitReady(t, node)

	// The agent trusts the workload root (for terminated targets) and
	// Azure's CA (for what passes through untouched: login).
	home := t.TempDir()
	bundle := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(bundle, append(append([]byte{}, id.WorkloadCAPEM...), srv.CA().CertPEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	c := srv.Clients()[0]
	env := sdkagent.Env(home, bundle, sdkagent.Identity{TenantID: srv.TenantID(), ClientID: c.ID, SubscriptionID: srv.SubscriptionID(), ClientSecret: c.Secret},
		"HTTPS_PROXY=http://"+node.Proxy.ConnectAddr().String())
	lines, stderr, err := sdkagent.Run(t, w.Start, sdkagent.BuildT(t), env, 2*time.Minute, "list-groups", "delete-group", "rg-b")
	if len(lines) != 2 { // it exits 1: a step failed, as it should
		t.Fatalf("agent through HTTPS_PROXY: %v %+v\n%s", err, lines, stderr)
	}
	if !lines[0].OK || !strings.Contains(string(lines[0].Result), "rg-b") {
		t.Errorf("list-groups: %+v", lines[0])
	}
	if lines[1].OK || lines[1].Error == nil || lines[1].Error.Code != "RequestDisallowedByInterlock" || lines[1].Error.Status != 403 {
		t.Errorf("delete-group: %+v, want a ResponseError RequestDisallowedByInterlock", lines[1])
	}
	if n := srv.Count("DELETE", "/resourcegroups/"); n != 0 {
		t.Errorf("azurefake saw %d resource group DELETEs", n)
	}

	// The recording, as the control plane holds it: the ARM session, with
	// the workload told from /proc.
	evs := recording(t, p, 1)
	var decisions []string
	var opened bool
	for _, ev := range evs {
		if d := ev.GetDecision(); d != nil && d.GetRule() != "" {
			decisions = append(decisions, d.GetRule()+"/"+d.GetOutcome().String())
		}
		if o := ev.GetOpen(); o != nil && o.GetTarget() == "arm" {
			wl := o.GetWorkload()
			if wl.GetName() != "sdk-agent" || wl.GetPid() == 0 || wl.GetUid() != uint32(os.Getuid()) || wl.GetCgroupPath() != w.CgroupPath() || wl.GetNode() != "node-p" {
				t.Errorf("session opened by workload %v; want sdk-agent in %s with its pid and uid, on node-p", wl, w.CgroupPath())
			}
			opened = true
		}
		b, _ := proto.Marshal(ev)
		if strings.Contains(string(b), "eyJhbGciOi") || strings.Contains(string(b), "eyJ0eXAiOi") {
			t.Errorf("a bearer token appears in the recording: %s", b)
		}
	}
	if !opened {
		t.Error("the recording holds no session to the arm target")
	}
	for _, want := range []string{"no-rg-delete/ACTION_DENY", "agents-may-work/ACTION_ALLOW"} {
		if !strings.Contains(strings.Join(decisions, " "), want) {
			t.Errorf("recording lacks decision %s; has %v", want, decisions)
		}
	}
	metrics := metricsOf(node)
	for _, want := range []string{
		`interlock_proxy_requests_total{outcome="deny",rule="no-rg-delete",target="arm"} 1`,
		`interlock_node_policy_version 1`,
		`interlock_node_workloads 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestProxyModePostgres(t *testing.T) {
	testenv.RequireRoot(t, "podsim makes a cgroup; proxy mode reads other processes' sockets in /proc")
	srv := pgtest.Start(t, pgtest.Options{ServerNames: []string{crmHost}})
	psql := filepath.Join(srv.BinDir(), "psql")
	if _, err := os.Stat(psql); err != nil {
		t.Fatalf("psql is not beside the server binaries: %v", err)
	}
	seedCustomers(t, srv.DSN())
	p := plane.Start(t, nil)
	w := podsim.Start(t, podsim.Options{Name: "proxypsql", HostNetwork: true})

	// The workload connects to the node's listener; the node resolves the
	// server's name (here, to 127.0.0.1) and routes by it.
	upstream := fmt.Sprintf("%s:%d", crmHost, srv.Port())
	state := filepath.Join(t.TempDir(), "node")
	node := startProxyNode(t, p, state, nodeagent.ProxyConfig{
		ConnectListen: "127.0.0.1:0",
		PG:            []nodeagent.PGRoute{{Listen: "127.0.0.1:0", Upstream: upstream}},
		Discovery:     workload.Config{VMs: []workload.VM{{Name: "psql-agent", Cgroup: w.CgroupPath()}}},
		Resolve:       resolveIn(map[string]string{crmHost: "127.0.0.1"}),
	}, func(nc *nodeagent.NodeConfig) { nc.UpstreamRoots = srv.CA().Pool() })
	listen := node.Proxy.PGAddrs()[0].(*net.TCPAddr)
	bundle := filepath.Join(state, nodeagent.WorkloadBundleFile)
	// Both clients verify the node's leaf for the server's name against
	// the node's CA bundle.
	conninfo := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=verify-full sslrootcert=%s connect_timeout=10",
		crmHost, listen.Port, srv.User(), srv.Database(), bundle)
	psqlConninfo := conninfo + " hostaddr=127.0.0.1"

	// Fail closed: no policy yet, so the listener refuses the client.
	wantNotReadyForPolicy(t, node)
	cfg, err := pgx.ParseConfig(conninfo + " password=" + srv.Password())
	if err != nil {
		t.Fatal(err)
	}
	cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
	if conn, err := pgx.ConnectConfig(t.Context(), cfg); err == nil {
		conn.Close(context.Background())
		t.Error("pgx connected through the node with no policy loaded")
	}

	pushPolicy(t, p, "crm.yaml", fmt.Sprintf(pgPolicy, upstream))
	waitReady(t, node)

	run := func(sql string) (string, error) {
		t.Helper()
		cctx, ccancel := context.WithTimeout(t.Context(), time.Minute)
		defer ccancel()
		cmd := exec.CommandContext(cctx, psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, psqlConninfo)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + t.TempDir(), "PGAPPNAME=crm-agent", "PGPASSWORD=" + srv.Password()}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := w.Start(cmd); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		return out.String(), err
	}
	checkPsqlEnforced(t, run, srv.DSN())

	// pgx, from the test process (no workload: only its uid is known),
	// through the extended protocol: masked the same.
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("pgx through the node: %v", err)
	}
	defer conn.Close(context.Background())
	var email string
	if err := conn.QueryRow(t.Context(), "SELECT email FROM customers WHERE id = $1", 2).Scan(&email); err != nil || email != "[MASKED]" {
		t.Errorf("pgx SELECT email: %q, %v; want [MASKED]", email, err)
	}
	_, err = conn.Exec(t.Context(), "TRUNCATE customers")
	if err == nil || !strings.Contains(err.Error(), "RequestDisallowedByInterlock") {
		t.Errorf("pgx TRUNCATE: %v, want RequestDisallowedByInterlock", err)
	}
	conn.Close(context.Background())

	// The recording: one session per psql run and the pgx one.
	evs := recording(t, p, 3)
	var (
		psqlOpens, pgxOpens  int
		denied, maskedResult bool
	)
	for _, ev := range evs {
		switch {
		case ev.GetOpen() != nil:
			o := ev.GetOpen()
			wl := o.GetWorkload()
			if o.GetProtocol() != interlockv1.Protocol_PROTOCOL_POSTGRES || o.GetTarget() != "crm" || o.GetServerName() != crmHost || o.GetUser() != srv.User() {
				t.Errorf("session opened: %v; want a PostgreSQL session to crm as %s", o, srv.User())
			}
			switch {
			case wl.GetName() == "psql-agent" && wl.GetPid() != 0 && wl.GetCgroupPath() == w.CgroupPath():
				psqlOpens++
			case wl.GetName() == "" && wl.GetUid() == uint32(os.Getuid()):
				pgxOpens++
			default:
				t.Errorf("session opened by workload %v", wl)
			}
		case ev.GetDecision() != nil:
			d := ev.GetDecision()
			if d.GetRule() == "no-drop-or-truncate" && d.GetOutcome() == interlockv1.Action_ACTION_DENY {
				denied = true
			}
		case ev.GetPgResult() != nil:
			data := ev.GetPgResult().GetData()
			if strings.Count(string(data.GetMasked()), "[MASKED]") == len(customers) && strings.Contains(string(data.GetMasked()), "Grace Hopper") {
				maskedResult = true
			}
		}
		b, _ := proto.Marshal(ev)
		for _, c := range customers {
			if strings.Contains(string(b), c[2]) {
				t.Errorf("a real email (%s) is in the recording: %v", c[2], ev)
			}
		}
		if strings.Contains(string(b), srv.Password()) {
			t.Errorf("the password is in the recording: %v", ev)
		}
	}
	if psqlOpens != 2 || pgxOpens != 1 || !denied || !maskedResult {
		t.Errorf("recording: %d psql sessions of psql-agent (want 2), %d pgx sessions (want 1), denial by the rule %v, masked result %v",
			psqlOpens, pgxOpens, denied, maskedResult)
	}
	metrics := metricsOf(node)
	for _, want := range []string{
		`interlock_proxy_statements_total{outcome="allow",rule="mask-customer-email",target="crm"} `, // per extended-protocol step
		`interlock_proxy_statements_total{outcome="deny",rule="no-drop-or-truncate",target="crm"} 2` + "\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "interlock_proxy_statements") {
				t.Log(l)
			}
		}
	}
}
