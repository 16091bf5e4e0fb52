// SPDX-License-Identifier: Apache-2.0

// Handler tests against real components: azurefake as Azure (real TLS,
// real tokens), the policy engine, the recorder, and Go's HTTP clients
// speaking HTTP/2 and HTTP/1.1 through the handler.

package https

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/record/recordtest"
	"github.com/interlockhq/interlock/l7proxy/tlsterm"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
	"golang.org/x/net/http2"
	"google.golang.org/protobuf/proto"
)

// fixture is a Handler in front of azurefake.
type fixture struct {
	srv      *azurefake.Server
	h        *Handler
	sink     *recordtest.MemSink
	nodeCA   *testca.CA
	proxy    net.Listener
	agentTok string
}

const testPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: test}
targets:
  - name: arm
    protocol: https
    hosts: [management.azure.com]
    credential: {mode: %s}
identity:
  issuers:
    - {issuer: "%s", audience: "https://management.core.windows.net/"}
rules:
  - name: no-rg-delete
    when: arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
    action: deny
    message: Agents may not delete resource groups.
  - name: mask-storage-keys
    when: arm.operation == "Microsoft.Storage/storageAccounts/listKeys/action"
    action: allow
    mask: [{jsonPath: "$.keys[*].value"}]
  - name: allow-reads-and-writes
    when: request.method in ["GET", "PUT", "POST"]
    action: allow
defaultAction: deny
masking: {detectors: [azure-storage-key, jwt]}
`

func newFixture(t testing.TB, credMode string) *fixture {
	t.Helper()
	return newFixtureWith(t, func(issuer string) string { return fmt.Sprintf(testPolicy, credMode, issuer) })
}

// newFixtureWith is newFixture with the policy policyFor(azurefake's v1
// issuer) returns.
func newFixtureWith(t testing.TB, policyFor func(issuer string) string) *fixture {
	t.Helper()
	testenv.RequireRoot(t, "azurefake listens on port 443 like Azure")
	ca, err := testca.New("azure")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := azurefake.Start(t.Context(), azurefake.Options{CA: ca, Clients: []azurefake.Client{{}, {}}, ResourceGroups: []string{"rg-a", "rg-b"},
		StorageAccounts: []azurefake.StorageAccount{{ResourceGroup: "rg-a", Name: "store1"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	bundle, err := policy.Load([]policy.Document{{Name: "test.yaml", YAML: []byte(policyFor(srv.IssuerV1()))}}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nodeCA, err := testca.New("node")
	if err != nil {
		t.Fatal(err)
	}
	minter, err := tlsterm.NewMinter(tlsterm.MinterConfig{CA: nodeCA.Signer()})
	if err != nil {
		t.Fatal(err)
	}
	// The node reaches Entra ID's keys the way it reaches Azure: here, at
	// azurefake, trusting its CA.
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Addr().String())
		},
	}}
	identify := Verifiers(identity.Options{HTTPClient: hc})
	nodeTok, err := srv.MintToken(azurefake.TokenOptions{ClientID: srv.Clients()[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordtest.MemSink{}
	h, err := New(Config{
		Node:      "node-a",
		Policy:    func() *policy.Bundle { return bundle },
		ServerTLS: minter.ServerConfig(),
		UpstreamTLS: func(sni string) *tls.Config {
			return tlsterm.Upstream(sni, tlsterm.UpstreamOptions{RootCAs: ca.Pool()})
		},
		Identify:    identify,
		Operation:   AzureOperations,
		Mask:        Masks(mask.NewPool()),
		Credentials: func(context.Context, *policy.Target, string) (string, error) { return nodeTok, nil },
		Recorder:    record.New(sink, record.Options{}),
		Passthrough: func(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
			up, err := dial(ctx, c.Upstream())
			if err != nil {
				c.Close()
				return
			}
			_, _ = up.Write(c.Peeked)
			_, _ = l7proxy.Passthrough(ctx, c.TCPConn, up)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); proxy.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			// What the listener would resolve from the kernel: the
			// workload dialed azurefake's address.
			lc := &l7proxy.Conn{TCPConn: c.(*net.TCPConn), Original: bpfOriginal(srv.Addr()), Workload: l7proxy.Workload{Kind: "vm", Name: "agent"}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.Serve(ctx, lc, dialTCP)
			}()
		}
	}()
	agentTok, err := srv.MintToken(azurefake.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, h: h, sink: sink, nodeCA: nodeCA, proxy: proxy, agentTok: agentTok}
}

func dialTCP(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// client is an agent's HTTP client: it trusts the node CA (and, for
// passthrough, Azure's), and every connection lands on the proxy, as the
// kernel would make it.
func (f *fixture) client(h2 bool) *http.Client {
	pool := f.nodeCA.Pool()
	pool.AddCert(f.srv.CA().Cert)
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: h2,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, f.proxy.Addr().String())
		},
	}
	if !h2 {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func (f *fixture) do(t *testing.T, c *http.Client, method, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func armError(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not ARM's error format: %q", body)
	}
	return e.Error.Code
}

func TestHandlerAllowDenyRefuse(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			f := newFixture(t, "passthrough")
			c := f.client(h2)
			sub := f.srv.SubscriptionID()
			list := "https://management.azure.com/subscriptions/" + sub + "/resourcegroups?api-version=2025-04-01"

			resp, body := f.do(t, c, "GET", list, f.agentTok)
			if resp.StatusCode != 200 || !strings.Contains(string(body), "rg-b") {
				t.Fatalf("list: %d %s", resp.StatusCode, body)
			}
			wantProto := "HTTP/1.1"
			if h2 {
				wantProto = "HTTP/2.0"
			}
			if resp.Proto != wantProto {
				t.Errorf("client spoke %s, want %s", resp.Proto, wantProto)
			}

			del := "https://management.azure.com/subscriptions/" + sub + "/resourcegroups/rg-a?api-version=2025-04-01"
			resp, body = f.do(t, c, "DELETE", del, f.agentTok)
			if resp.StatusCode != 403 || armError(t, body) != CodeDisallowed || !strings.Contains(string(body), "no-rg-delete: Agents may not delete resource groups.") {
				t.Errorf("delete: %d %s", resp.StatusCode, body)
			}
			if n := f.srv.Count("DELETE", "/resourcegroups/"); n != 0 {
				t.Errorf("azurefake saw %d DELETEs", n)
			}

			resp, body = f.do(t, c, "GET", list, "")
			if resp.StatusCode != 401 || armError(t, body) != CodeAuthFailed {
				t.Errorf("no token: %d %s", resp.StatusCode, body)
			}
			forged, err := f.srv.ForgeToken(azurefake.TokenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			before := len(f.srv.Requests())
			resp, body = f.do(t, c, "GET", list, forged)
			if resp.StatusCode != 401 || armError(t, body) != "InvalidAuthenticationToken" {
				t.Errorf("forged token: %d %s", resp.StatusCode, body)
			}
			for _, r := range f.srv.Requests()[before:] {
				if r.Host == azurefake.ARMHost {
					t.Errorf("azurefake saw a request after a forged token: %+v", r)
				}
			}

			// The agent's token went upstream (credential: passthrough).
			var sawAgent bool
			for _, r := range f.srv.Requests() {
				if r.Host == azurefake.ARMHost && r.Claims["appid"] == f.srv.Clients()[0].ID {
					sawAgent = true
				}
			}
			if !sawAgent {
				t.Error("azurefake never saw the agent's own token with credential: passthrough")
			}
			c.CloseIdleConnections()
			f.sink.WaitClosed(t)
			checkRecording(t, f.sink.Events(), f.agentTok)
			var denied bool
			for _, e := range f.sink.Events() {
				if d := e.GetDecision(); d != nil && d.Rule == "no-rg-delete" && d.ErrorCode == CodeDisallowed {
					denied = true
				}
				if r := e.GetHttpRequest(); r != nil && r.Method == "DELETE" {
					if op := r.GetAzure().GetOperation(); op != "Microsoft.Resources/subscriptions/resourceGroups/delete" {
						t.Errorf("recorded DELETE with operation %q", op)
					}
				}
			}
			if !denied {
				t.Error("no recorded decision by no-rg-delete")
			}
		})
	}
}

func TestHandlerInjectsNodeCredential(t *testing.T) {
	f := newFixture(t, "inject, azure: {type: managedIdentity}")
	c := f.client(true)
	resp, body := f.do(t, c, "GET", "https://management.azure.com/subscriptions/"+f.srv.SubscriptionID()+"/resourcegroups?api-version=2025-04-01", f.agentTok)
	if resp.StatusCode != 200 {
		t.Fatalf("list with inject: %d %s", resp.StatusCode, body)
	}
	node := f.srv.Clients()[1].ID
	for _, r := range f.srv.Requests() {
		if r.Host != azurefake.ARMHost {
			continue
		}
		if r.Claims["appid"] != node {
			t.Errorf("azurefake saw appid %v, want only the node's %s", r.Claims["appid"], node)
		}
	}
	c.CloseIdleConnections()
	f.sink.WaitClosed(t)
	checkRecording(t, f.sink.Events(), f.agentTok)
}

// TestHandlerPassesNonTargets: a TLS connection whose SNI is not a target
// is spliced through untouched; the client sees Azure's own certificate.
func TestHandlerPassesNonTargets(t *testing.T) {
	f := newFixture(t, "passthrough")
	tc, err := tls.Dial("tcp", f.proxy.Addr().String(), &tls.Config{ServerName: azurefake.LoginHost, RootCAs: f.srv.CA().Pool()})
	if err != nil {
		t.Fatalf("TLS to a non-target through the handler: %v", err)
	}
	defer tc.Close()
	if issuer := tc.ConnectionState().PeerCertificates[0].Issuer.CommonName; issuer != f.srv.CA().Cert.Subject.CommonName {
		t.Errorf("non-target certificate issued by %q, want Azure's (passthrough, no termination)", issuer)
	}
	if len(f.sink.Events()) != 0 {
		t.Errorf("a passthrough connection was recorded as an https session")
	}
}

// checkRecording: each session opens first and closes last with gap-free
// seqs, every decision and response is there, and no credential appears
// anywhere in the recording.
func checkRecording(t *testing.T, evs []*interlockv1.SessionEvent, secrets ...string) {
	t.Helper()
	bySess := map[string][]*interlockv1.SessionEvent{}
	for _, e := range evs {
		bySess[e.SessionId] = append(bySess[e.SessionId], e)
	}
	if len(bySess) == 0 {
		t.Fatal("nothing recorded")
	}
	var requests, decisions, responses int
	for id, es := range bySess {
		for i, e := range es {
			if e.Seq != uint64(i+1) {
				t.Errorf("session %s: event %d has seq %d", id, i, e.Seq)
			}
			switch e.Event.(type) {
			case *interlockv1.SessionEvent_HttpRequest:
				requests++
			case *interlockv1.SessionEvent_Decision:
				decisions++
			case *interlockv1.SessionEvent_HttpResponse:
				responses++
			}
		}
		if es[0].GetOpen() == nil {
			t.Errorf("session %s does not start with open", id)
		}
		if last := es[len(es)-1]; last.GetClose() == nil {
			t.Errorf("session %s does not end with close (ends with %T)", id, last.Event)
		}
	}
	if requests == 0 || decisions != requests || responses != requests {
		t.Errorf("recorded %d requests, %d decisions, %d responses", requests, decisions, responses)
	}
	for _, e := range evs {
		b, _ := json.Marshal(e)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("a credential appears in the recording: %s", b)
			}
		}
	}
}

func bpfOriginal(dst netip.AddrPort) bpf.Original {
	return bpf.Original{Dst: dst, PID: 4242, UID: 1000}
}

// TestHandlerMasksStorageKeys: listKeys answers with every key value
// masked (a JSON path rule), regenerateKey's keys are caught by the
// storage key detector, the JSON stays valid, and the real values appear
// neither in what the agent got nor in the recording.
func TestHandlerMasksStorageKeys(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			f := newFixture(t, "passthrough")
			c := f.client(h2)
			base := "https://management.azure.com/subscriptions/" + f.srv.SubscriptionID() + "/resourceGroups/rg-a/providers/Microsoft.Storage/storageAccounts/store1/"
			// The real keys, straight from azurefake (not through the node).
			real := f.realKeys(t, base+"listKeys?api-version=2025-01-01")
			if len(real) != 2 {
				t.Fatalf("azurefake has %d keys", len(real))
			}
			for _, op := range []string{"listKeys", "regenerateKey"} {
				req, _ := http.NewRequest("POST", base+op+"?api-version=2025-01-01", strings.NewReader(`{"keyName":"key2"}`))
				req.Header.Set("Authorization", "Bearer "+f.agentTok)
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", op, resp.StatusCode, body)
				}
				var parsed struct {
					Keys []struct{ KeyName, Value string } `json:"keys"`
				}
				if err := json.Unmarshal(body, &parsed); err != nil || len(parsed.Keys) != 2 {
					t.Fatalf("%s: masked body is not the JSON it was: %v %s", op, err, body)
				}
				for _, k := range parsed.Keys {
					if !strings.HasPrefix(k.Value, "[MASKED") {
						t.Errorf("%s: key %s reached the agent unmasked: %q", op, k.KeyName, k.Value)
					}
				}
			}
			c.CloseIdleConnections()
			f.sink.WaitClosed(t)
			real = append(real, f.realKeys(t, base+"listKeys?api-version=2025-01-01")...) // after regenerateKey
			var masked int
			for _, e := range f.sink.Events() {
				b, _ := proto.Marshal(e)
				for _, k := range real {
					if strings.Contains(string(b), k) {
						t.Errorf("a real key value is in the recording")
					}
				}
				if r := e.GetHttpResponse(); r != nil {
					for _, m := range r.GetBody().GetMasks() {
						masked += int(m.GetCount())
					}
				}
			}
			if masked < 4 {
				t.Errorf("recording says %d values were masked, want at least 4", masked)
			}
		})
	}
}

// realKeys asks azurefake directly for the keys.
func (f *fixture) realKeys(t *testing.T, url string) []string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: f.srv.CA().Pool()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, f.srv.Addr().String())
		},
	}}
	req, _ := http.NewRequest("POST", url, nil)
	req.Header.Set("Authorization", "Bearer "+f.agentTok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var parsed struct {
		Keys []struct{ Value string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&parsed); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range parsed.Keys {
		out = append(out, k.Value)
	}
	return out
}

// failModePolicy has a rule whose condition cannot be evaluated for a
// request without the header it reads.
const failModePolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: failmode}
targets:
  - name: arm
    protocol: https
    hosts: [management.azure.com]
    failMode: %s
identity:
  issuers:
    - {issuer: "%s", audience: "https://management.core.windows.net/"}
rules:
  - name: needs-ticket
    when: request.headers["x-ticket"] == "approved"
    action: allow
defaultAction: deny
`

// TestHandlerFailMode: a condition that cannot be evaluated denies the
// request (fail closed), unless the target says failMode: open; then it
// passes and the recording says why.
func TestHandlerFailMode(t *testing.T) {
	for _, mode := range []string{"closed", "open"} {
		t.Run(mode, func(t *testing.T) {
			f := newFixtureWith(t, func(iss string) string { return fmt.Sprintf(failModePolicy, mode, iss) })
			c := f.client(true)
			resp, body := f.do(t, c, "GET", "https://management.azure.com/subscriptions/"+f.srv.SubscriptionID()+"/resourcegroups?api-version=2025-04-01", f.agentTok)
			c.CloseIdleConnections()
			f.sink.WaitClosed(t)
			var reason string
			for _, e := range f.sink.Events() {
				if d := e.GetDecision(); d != nil {
					reason = d.GetReason()
				}
			}
			switch mode {
			case "closed":
				if resp.StatusCode != 403 || armError(t, body) != CodeDisallowed || !strings.Contains(string(body), "could not be evaluated") {
					t.Errorf("failMode closed: %d %s", resp.StatusCode, body)
				}
			case "open":
				if resp.StatusCode != 200 {
					t.Errorf("failMode open: %d %s", resp.StatusCode, body)
				}
				if !strings.HasPrefix(reason, "failMode open: policy could not be evaluated") {
					t.Errorf("recorded reason %q, want the fail-open recorded", reason)
				}
			}
		})
	}
}

// TestRecordingFailureRefuses: once the recording fails (a full disk),
// nothing more reaches Azure, over HTTP/1.1 or HTTP/2, on the connection
// in use or a new one; the workload is told, or its connection closed.
func TestRecordingFailureRefuses(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			f := newFixture(t, "passthrough")
			c := f.client(h2)
			list := "https://management.azure.com/subscriptions/" + f.srv.SubscriptionID() + "/resourcegroups?api-version=2025-04-01"
			if resp, body := f.do(t, c, "GET", list, f.agentTok); resp.StatusCode != 200 {
				t.Fatalf("list: %d %s", resp.StatusCode, body)
			}
			// The response was recorded (or is being) as the disk fills.
			f.sink.FailWith(errors.New("no space left on device"))
			before := f.srv.Count("GET", "/resourcegroups")
			for i := range 2 { // the connection in use, then a new one
				req, _ := http.NewRequest("GET", list, nil)
				req.Header.Set("Authorization", "Bearer "+f.agentTok)
				resp, err := c.Do(req)
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "recording failed") {
						t.Errorf("request %d with the recording failing: %d %s", i, resp.StatusCode, body)
					}
				}
				c.CloseIdleConnections()
			}
			if n := f.srv.Count("GET", "/resourcegroups") - before; n != 0 {
				t.Errorf("azurefake saw %d requests after the recording failed", n)
			}
		})
	}
}

// TestHTTP2StreamLimit: an HTTP/2 workload connection is told it may have
// maxStreams requests in flight, each of which has an upstream connection
// of its own.
func TestHTTP2StreamLimit(t *testing.T) {
	fx := newFixture(t, "passthrough")
	c, err := tls.Dial("tcp", fx.proxy.Addr().String(), &tls.Config{
		ServerName: "management.azure.com", RootCAs: fx.nodeCA.Pool(), NextProtos: []string{"h2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the server's SETTINGS: %v", err)
		}
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			continue
		}
		v, ok := sf.Value(http2.SettingMaxConcurrentStreams)
		if !ok || v != maxStreams {
			t.Fatalf("SETTINGS_MAX_CONCURRENT_STREAMS = %d (sent: %v), want %d", v, ok, maxStreams)
		}
		return
	}
}
