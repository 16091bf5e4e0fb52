// SPDX-License-Identifier: Apache-2.0

// Proxy mode end to end: the real Azure SDK agent with HTTPS_PROXY, in a
// workload the agent tells apart by its cgroup.

package nodeagent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/nodeagent/workload"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/sdkagent"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

func TestProxyModeSDKAgent(t *testing.T) {
	testenv.RequireRoot(t, "azurefake listens on port 443; podsim makes a cgroup")
	ca, err := testca.New("proxy mode")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := azurefake.Start(t.Context(), azurefake.Options{CA: ca, Clients: []azurefake.Client{{}}, ResourceGroups: []string{"rg-one", "rg-two"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	hosts := srv.Hosts()
	w := podsim.Start(t, podsim.Options{Name: "proxymode", HostNetwork: true})

	var (
		mu   sync.Mutex
		seen []*l7proxy.Conn
		p    *ProxyAgent
	)
	p, err = NewProxyMode(ProxyConfig{
		ConnectListen: "127.0.0.1:0",
		Discovery:     workload.Config{VMs: []workload.VM{{Name: "sdk-agent", Cgroup: w.CgroupPath()}}},
		// The node resolves Azure's names (here, to azurefake), as DNS
		// would; the agent never resolves them itself in proxy mode.
		Resolve: func(_ context.Context, host string) ([]netip.Addr, error) {
			if a, ok := hosts[host]; ok {
				return []netip.Addr{netip.MustParseAddr(a)}, nil
			}
			return nil, errors.New("no such host in the test")
		},
		Handle: func(ctx context.Context, c *l7proxy.Conn, dial Dialer) {
			mu.Lock()
			seen = append(seen, c)
			mu.Unlock()
			_, _ = passthrough(ctx, slog.Default(), c, dial)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Ready() {
		t.Error("proxy mode is not ready with its listeners up")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)

	bin := sdkagent.BuildT(t)
	home := t.TempDir()
	bundle := filepath.Join(home, "ca.pem")
	if err := ca.WriteBundle(bundle); err != nil {
		t.Fatal(err)
	}
	c := srv.Clients()[0]
	env := sdkagent.Env(home, bundle, sdkagent.Identity{TenantID: srv.TenantID(), ClientID: c.ID, SubscriptionID: srv.SubscriptionID(), ClientSecret: c.Secret},
		"HTTPS_PROXY=http://"+p.ConnectAddr().String())
	// Let discovery see the workload before the agent connects.
	time.Sleep(100 * time.Millisecond)
	lines, stderr, err := sdkagent.Run(t, w.Start, bin, env, 90*time.Second, "list-groups")
	if err != nil || len(lines) != 1 || !lines[0].OK {
		t.Fatalf("agent through HTTPS_PROXY: %v %+v %s", err, lines, stderr)
	}
	if !strings.Contains(string(lines[0].Result), "rg-two") {
		t.Errorf("list-groups result %s, want rg-two in it", lines[0].Result)
	}
	stop() // every tunnel's handler has returned
	if p.Ready() {
		t.Error("proxy mode says it is ready after it stopped")
	}
	rec := httptest.NewRecorder()
	p.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := fmt.Sprintf(`interlock_node_connections_total{outcome="handled",workload="sdk-agent"} %d`, len(seen)); !strings.Contains(rec.Body.String(), want+"\n") {
		t.Errorf("/metrics lacks %q", want)
	}
	var n int
	for _, conn := range seen {
		n++
		if conn.Workload.Name != "sdk-agent" || conn.Original.UID != uint32(os.Getuid()) || conn.Original.PID == 0 {
			t.Errorf("tunnel to %s (%v): workload %+v pid %d uid %d; want the sdk-agent workload", conn.ServerName, conn.Original.Dst, conn.Workload, conn.Original.PID, conn.Original.UID)
		}
		if _, ok := hosts[conn.ServerName]; !ok {
			t.Errorf("tunnel to %q, not an Azure name", conn.ServerName)
		}
	}
	if n < 2 { // login.microsoftonline.com and management.azure.com at least
		t.Errorf("%d tunnels, want one per Azure host the SDK used", n)
	}
}

func TestConnectRefusals(t *testing.T) {
	p, err := NewProxyMode(ProxyConfig{ConnectListen: "127.0.0.1:0",
		Resolve: func(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("nxdomain") }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	tests := []struct {
		req  string
		want int
	}{
		{"GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n", http.StatusMethodNotAllowed},
		{"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", http.StatusForbidden},
		{"CONNECT nosuch.test:443 HTTP/1.1\r\nHost: nosuch.test:443\r\n\r\n", http.StatusBadGateway},
		{"CONNECT nonsense HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		{"\x16\x03\x01\x00\x05hello", http.StatusBadRequest},
	}
	for _, tt := range tests {
		c, err := net.Dial("tcp", p.ConnectAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, tt.req)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufioReader(c), nil)
		if err != nil {
			t.Errorf("%q: %v", tt.req, err)
			c.Close()
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tt.want || len(body) == 0 {
			t.Errorf("%q: %d %q, want %d with a reason", tt.req, resp.StatusCode, body, tt.want)
		}
		c.Close()
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
