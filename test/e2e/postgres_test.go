// SPDX-License-Identifier: Apache-2.0

// Acceptance of PostgreSQL enforcement: the real psql, unmodified, in a
// VM-style workload (its own cgroup and hosts file), intercepted by the
// real node (eBPF, sniffing of the SSLRequest on a port that is not 5432,
// TLS termination with a leaf the workload verifies against the node's CA
// bundle, policy from the real control plane, spool and upload) in front
// of a real PostgreSQL on 127.0.0.1; every outcome checked on the wire, on
// the server and in the recording read back through the control API.

package e2e_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/bpf/bpftest"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	"github.com/interlockhq/interlock/nodeagent/workload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
	"github.com/interlockhq/interlock/test/pgtest"
	"github.com/interlockhq/interlock/test/podsim"
)

// crmHost is the server's name as the workload knows it; its hosts file
// points it at 127.0.0.1.
const crmHost = "crm.postgres.database.azure.com"

// pgPolicy: %s is the target's host:port.
const pgPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: crm}
targets:
  - name: crm
    protocol: postgres
    hosts: ["%s"]
    credential: {mode: passthrough}
rules:
  - name: no-drop-or-truncate
    when: sql.statementType in ["DROP", "TRUNCATE"]
    action: deny
    message: Agents may not drop or truncate tables.
  - name: mask-customer-email
    when: '"customers" in sql.tables'
    action: allow
    mask: [{column: email}]
  - name: agents-may-read
    when: sql.statementType in ["SELECT", "SET", "SHOW"]
    action: allow
defaultAction: deny
`

// customers are the table's rows: id, name, email.
var customers = [][3]string{
	{"1", "Ada Lovelace", "ada@analytical.example"},
	{"2", "Grace Hopper", "grace@cobol.example"},
	{"3", "Alan Turing", "alan@bletchley.example"},
}

func TestPostgresAcceptance(t *testing.T) {
	bpftest.Require(t)
	srv := pgtest.Start(t, pgtest.Options{ServerNames: []string{crmHost}})
	psql := filepath.Join(srv.BinDir(), "psql")
	if _, err := os.Stat(psql); err != nil {
		t.Fatalf("psql is not beside the server binaries: %v", err)
	}
	seedCustomers(t, srv.DSN())
	p := plane.Start(t, nil)

	// Only the server's port on loopback is intercepted: not 5432, so the
	// node tells PostgreSQL by the SSLRequest.
	state := t.TempDir()
	node, err := nodeagent.NewNode(t.Context(), nodeagent.NodeConfig{
		Agent: nodeagent.Config{
			BPF: bpf.Config{
				PinDir: bpftest.PinDir(), Ports: []uint16{uint16(srv.Port())},
				Intercept: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			},
			ProxyPort: freeLoopbackPort(t), DetachOnExit: true, Logger: testLogger(t),
		},
		StateDir:      filepath.Join(state, "node"),
		Control:       clientConfig(t, p),
		Enroll:        controlclient.EnrollConfig{NodeName: "node-a", BootstrapToken: p.BootstrapToken(), ControlCA: p.CAPEM},
		UpstreamRoots: srv.CA().Pool(),
	})
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, node)
	admin := p.Person(p.Token("alice", plane.GroupAdmins))
	if _, err := interlockv1.NewPolicyServiceClient(admin).Push(t.Context(), &interlockv1.PushPolicyRequest{
		Documents: []*interlockv1.PolicyDocument{{Name: "crm.yaml", Yaml: fmt.Appendf(nil, pgPolicy, fmt.Sprintf("%s:%d", crmHost, srv.Port()))}},
	}); err != nil {
		t.Fatalf("push policy: %v", err)
	}
	waitReady(t, node)

	w := podsim.Start(t, podsim.Options{Name: "psql", HostNetwork: true, Hosts: map[string]string{crmHost: "127.0.0.1"}})
	if _, err := node.Agent.Attach(t.Context(), workload.Workload{Kind: workload.KindVM, Name: "psql-agent", CgroupPath: w.CgroupPath(), CgroupID: w.CgroupID()}); err != nil {
		t.Fatal(err)
	}
	// psql verifies the server against the node's CA bundle, as
	// interlock exec would point it.
	run := func(sql string) (string, error) {
		t.Helper()
		cctx, ccancel := context.WithTimeout(t.Context(), time.Minute)
		defer ccancel()
		cmd := exec.CommandContext(cctx, psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
			fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=verify-full", crmHost, srv.Port(), srv.User(), srv.Database()))
		cmd.Env = []string{
			"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + t.TempDir(), "PGCONNECT_TIMEOUT=10", "PGAPPNAME=crm-agent",
			"PGPASSWORD=" + srv.Password(), "PGSSLROOTCERT=" + filepath.Join(state, "node", nodeagent.WorkloadBundleFile),
		}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := w.Start(cmd); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		return out.String(), err
	}

	checkPsqlEnforced(t, run, srv.DSN())

	// The recording, as the control plane holds it: one session per psql.
	evs := recording(t, p, 2)
	var (
		opens, queries       int
		denied, maskedResult bool
	)
	for _, ev := range evs {
		switch {
		case ev.GetOpen() != nil:
			o := ev.GetOpen()
			if o.GetProtocol() == interlockv1.Protocol_PROTOCOL_POSTGRES && o.GetTarget() == "crm" && o.GetServerName() == crmHost &&
				o.GetUser() == srv.User() && o.GetDatabase() == srv.Database() && o.GetWorkload().GetName() == "psql-agent" {
				opens++
			}
		case ev.GetPgQuery() != nil:
			q := ev.GetPgQuery()
			if q.GetText() == "SELECT id, name, email FROM customers ORDER BY id" && q.GetStatementType() == "SELECT" {
				queries++
			}
			if q.GetText() == "DROP TABLE customers" && q.GetStatementType() == "DROP" {
				queries++
			}
		case ev.GetDecision() != nil:
			d := ev.GetDecision()
			if d.GetRule() == "no-drop-or-truncate" && d.GetOutcome() == interlockv1.Action_ACTION_DENY && d.GetErrorCode() == "RequestDisallowedByInterlock" {
				denied = true
			}
		case ev.GetPgResult() != nil:
			r := ev.GetPgResult()
			data := r.GetData()
			var byColumn uint32
			for _, m := range data.GetMasks() {
				if m.GetColumn() == "email" && m.GetRule() == "mask-customer-email" {
					byColumn += m.GetCount()
				}
			}
			if r.GetRows() == uint64(len(customers)) && byColumn == uint32(len(customers)) &&
				strings.Count(string(data.GetMasked()), "[MASKED]") == len(customers) && strings.Contains(string(data.GetMasked()), "Grace Hopper") {
				maskedResult = true
			}
		}
	}
	if opens != 2 || queries != 2 || !denied || !maskedResult {
		t.Errorf("recording: %d sessions opened with user and database (want 2), %d queries (want 2), denial with the rule %v, masked result %v",
			opens, queries, denied, maskedResult)
	}
	for _, ev := range evs {
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

	// The node's metrics count the statements by outcome and rule.
	rec := httptest.NewRecorder()
	node.Agent.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metrics := rec.Body.String()
	for _, want := range []string{
		`interlock_proxy_statements_total{outcome="allow",rule="mask-customer-email",target="crm"} 1`,
		`interlock_proxy_statements_total{outcome="deny",rule="no-drop-or-truncate",target="crm"} 1`,
		fmt.Sprintf(`interlock_proxy_masked_values_total{detector="column",protocol="postgres"} %d`, len(customers)),
		`interlock_proxy_connections_total{protocol="postgres",target="crm",workload="psql-agent"} 2`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "interlock_proxy_statements") || strings.HasPrefix(l, "interlock_proxy_masked") {
				t.Log(l)
			}
		}
	}
}

// seedCustomers creates the customers table, directly on the server.
func seedCustomers(t *testing.T, dsn string) {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(t.Context(), "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for _, r := range customers {
		id, _ := strconv.Atoi(r[0])
		if _, err := c.Exec(t.Context(), "INSERT INTO customers VALUES ($1, $2, $3)", id, r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
}

// countCustomers counts the table's rows directly on the server; -1 when
// the table is gone.
func countCustomers(t *testing.T, dsn string) int {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(t.Context(), "SELECT count(*) FROM customers").Scan(&n); err != nil {
		t.Logf("count customers: %v", err)
		return -1
	}
	return n
}

// checkPsqlEnforced runs a SELECT and a DROP through run (psql in an
// intercepted workload) and checks that the emails came back masked, that
// the DROP was refused with the rule's message, and that the server, asked
// directly at dsn, still has every customer.
func checkPsqlEnforced(t *testing.T, run func(sql string) (string, error), dsn string) {
	t.Helper()
	out, err := run("SELECT id, name, email FROM customers ORDER BY id")
	if err != nil {
		t.Fatalf("psql SELECT: %v\n%s", err, out)
	}
	var want strings.Builder
	for _, c := range customers {
		fmt.Fprintf(&want, "%s|%s|[MASKED]\n", c[0], c[1])
	}
	if out != want.String() {
		t.Errorf("psql SELECT printed\n%s\nwant\n%s", out, want.String())
	}
	out, err = run("DROP TABLE customers")
	if err == nil || !strings.Contains(out, "RequestDisallowedByInterlock: no-drop-or-truncate: Agents may not drop or truncate tables.") {
		t.Errorf("psql DROP TABLE: %v\n%s\nwant a failure naming RequestDisallowedByInterlock and the rule", err, out)
	}
	if n := countCustomers(t, dsn); n != len(customers) {
		t.Errorf("the server has %d customers after the refused DROP, want %d", n, len(customers))
	}
}
