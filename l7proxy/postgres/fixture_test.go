// SPDX-License-Identifier: Apache-2.0

// The test fixture: a Handler in front of a real PostgreSQL (pgtest),
// behind a loopback listener whose connections are wrapped as the node's
// listener would (original destination: the server), with azurefake as
// Entra ID for token passwords, and unmodified clients (pgx, psql).

package postgres

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/https"
	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/record/recordtest"
	"github.com/interlockhq/interlock/l7proxy/tlsterm"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/pgtest"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

// audiencePG is the audience of Entra tokens for Azure Database for
// PostgreSQL.
const audiencePG = "https://ossrdbms-aad.database.windows.net"

// testPolicy: %s are the host:port, the credential, the issuer.
const testPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: pg}
targets:
  - name: orders-db
    protocol: postgres
    hosts: ["%s"]
    credential: %s
identity:
  issuers:
    - {issuer: "%s", audience: "` + audiencePG + `"}
rules:
  - name: no-ddl
    when: sql.statementType in ["DROP", "TRUNCATE", "ALTER"]
    action: deny
    message: Agents may not change the schema.
  - name: no-delete
    when: sql.statementType == "DELETE"
    action: deny
    message: Agents may not delete rows.
  - name: updates-need-approval
    when: sql.statementType == "UPDATE"
    action: approve
    approval: {approvers: ["group:dba"], hold: 5s}
  - name: mask-customer-email
    when: '"customers" in sql.tables'
    action: allow
    mask: [{column: email}]
  - name: allow-the-rest
    when: sql.statementType in ["SELECT", "INSERT", "BEGIN", "COMMIT", "ROLLBACK", "SET", "SHOW", "COPY", "CREATE", "EXPLAIN", "PREPARE", "DEALLOCATE", "DISCARD"]
    action: allow
defaultAction: deny
masking: {detectors: [jwt, credit-card]}
`

// fixture is a Handler in front of a pgtest server.
type fixture struct {
	srv      *pgtest.Server
	dsn      string // direct, as the owner, to the test's database
	database string
	h        *Handler
	sink     *recordtest.MemSink
	nodeCA   *testca.CA
	caFile   string // the node CA, for psql
	proxy    net.Listener
	az       *azurefake.Server
	approver *fakeApprover
	nodePass string // the injected credential
}

type fixtureOptions struct {
	credential string // the target's credential: YAML
	// nodePassword is what Credentials returns.
	nodePassword string
	// responseTimeout is the handler's ResponseTimeout.
	responseTimeout time.Duration
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	testenv.RequireRoot(t, "azurefake listens on port 443 like Entra ID; PostgreSQL runs as the postgres user")
	srv := pg.Server(t)
	dsn := pgtest.NewDatabase(t, srv)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if o.credential == "" {
		o.credential = "{mode: passthrough}"
	}
	az, err := azurefake.Start(t.Context(), azurefake.Options{Clients: []azurefake.Client{{}, {}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { az.Close() })
	host := fmt.Sprintf("%s:%d", dbName, srv.Port())
	bundle, err := policy.Load([]policy.Document{{Name: "pg.yaml", YAML: []byte(fmt.Sprintf(testPolicy, host, o.credential, az.IssuerV1()))}}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nodeCA, err := testca.New("node")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "node-ca.pem")
	if err := nodeCA.WriteBundle(caFile); err != nil {
		t.Fatal(err)
	}
	minter, err := tlsterm.NewMinter(tlsterm.MinterConfig{CA: nodeCA.Signer()})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: az.CA().Pool()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, az.Addr().String())
		},
	}}
	sink := &recordtest.MemSink{}
	f := &fixture{srv: srv, dsn: dsn, database: cfg.Database, sink: sink, nodeCA: nodeCA, caFile: caFile, az: az,
		approver: &fakeApprover{}, nodePass: o.nodePassword}
	f.h, err = New(Config{
		Node:      "node-a",
		Policy:    func() *policy.Bundle { return bundle },
		ServerTLS: minter.ServerConfig(),
		UpstreamTLS: func(sni string) *tls.Config {
			return tlsterm.Upstream(sni, tlsterm.UpstreamOptions{RootCAs: srv.CA().Pool()})
		},
		Identify: https.Verifiers(identity.Options{HTTPClient: hc}),
		Credentials: func(_ context.Context, tg *policy.Target, host string) (string, error) {
			if host != dbName {
				return "", fmt.Errorf("credential for %s", host)
			}
			return o.nodePassword, nil
		},
		MaskPool:        mask.NewPool(),
		Approvals:       f.approver,
		Recorder:        record.New(sink, record.Options{}),
		ResponseTimeout: o.responseTimeout,
		Logger:          testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.proxy = f.listen(t)
	return f
}

// listen serves the handler on a loopback listener, each connection
// wrapped as the node's listener would: the workload dialed the server.
func (f *fixture) listen(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	dst := netip.MustParseAddrPort(f.srv.Addr())
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			lc := &l7proxy.Conn{TCPConn: c.(*net.TCPConn), Original: bpf.Original{Dst: dst, PID: 4242, UID: 1000},
				Workload: l7proxy.Workload{Kind: "vm", Name: "agent"}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.h.Serve(ctx, lc, dialTCP)
			}()
		}
	}()
	return ln
}

func dialTCP(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error) {
	if !dst.Addr().IsLoopback() {
		return nil, fmt.Errorf("test dialer: %s is not loopback", dst)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// agentConfig is the pgx configuration of an agent that connects to
// dbName (landing on the proxy) as user with password.
func (f *fixture) agentConfig(t testing.TB, user, password string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=verify-full", dbName, f.srv.Port(), user, f.database))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = password
	cfg.TLSConfig = &tls.Config{ServerName: dbName, RootCAs: f.nodeCA.Pool()}
	cfg.Fallbacks = nil
	cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
	proxy := f.proxy.Addr().String()
	cfg.DialFunc = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, proxy)
	}
	return cfg
}

// agent connects as the server's role with its password.
func (f *fixture) agent(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, f.agentConfig(t, f.srv.User(), f.srv.Password()))
	if err != nil {
		t.Fatalf("agent connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// direct connects to the test database without the proxy.
func (f *fixture) direct(t testing.TB) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// exec runs statements directly.
func (f *fixture) exec(t testing.TB, stmts ...string) {
	t.Helper()
	c := f.direct(t)
	for _, s := range stmts {
		if _, err := c.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// psqlEnv is the environment and connection string of psql as an agent.
func (f *fixture) psqlArgs(user, password string) (env []string, conninfo string) {
	port := f.proxy.Addr().(*net.TCPAddr).Port
	env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLROOTCERT="+f.caFile, "PGCONNECT_TIMEOUT=10")
	return env, fmt.Sprintf("host=%s hostaddr=127.0.0.1 port=%d user=%s dbname=%s sslmode=verify-full", dbName, port, user, f.database)
}

// checkRecording: every session opens first, closes last, with gap-free
// seqs, and none of secrets appears anywhere in it.
func checkRecording(t *testing.T, evs []*interlockv1.SessionEvent, secrets ...string) {
	t.Helper()
	bySess := map[string][]*interlockv1.SessionEvent{}
	for _, e := range evs {
		bySess[e.SessionId] = append(bySess[e.SessionId], e)
	}
	if len(bySess) == 0 {
		t.Fatal("nothing recorded")
	}
	for id, es := range bySess {
		for i, e := range es {
			if e.Seq != uint64(i+1) {
				t.Errorf("session %s: event %d has seq %d", id, i, e.Seq)
			}
		}
		if es[0].GetOpen() == nil {
			t.Errorf("session %s does not start with open", id)
		}
		if es[len(es)-1].GetClose() == nil {
			t.Errorf("session %s does not end with close", id)
		}
	}
	for _, e := range evs {
		b, _ := json.Marshal(e)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%q appears in the recording: %s", s, b)
			}
		}
	}
}

// fakeApprover answers approvals as told.
type fakeApprover struct {
	mu    sync.Mutex
	state interlockv1.ApprovalState
	delay time.Duration
	asked []ApprovalRequest
}

func (a *fakeApprover) Approve(ctx context.Context, req ApprovalRequest) (ApprovalResult, error) {
	a.mu.Lock()
	a.asked = append(a.asked, req)
	st, delay := a.state, a.delay
	a.mu.Unlock()
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ApprovalResult{}, ctx.Err()
	}
	if st == interlockv1.ApprovalState_APPROVAL_STATE_UNSPECIFIED {
		st = interlockv1.ApprovalState_APPROVAL_STATE_PENDING
	}
	return ApprovalResult{ID: "appr-1", State: st, Approvers: []string{"user:dba@example.com"}}, nil
}

func (a *fakeApprover) set(st interlockv1.ApprovalState, delay time.Duration) {
	a.mu.Lock()
	a.state, a.delay = st, delay
	a.mu.Unlock()
}
