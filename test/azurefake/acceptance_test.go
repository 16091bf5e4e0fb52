// SPDX-License-Identifier: Apache-2.0

// Acceptance: the unmodified agent (test/agent), built with go build and run
// in a VM-style podsim workload whose hosts file points Azure's names at
// azurefake on 127.x:443, does everything it can do, once with a client
// secret and once with a federated workload identity token.

package azurefake

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/sdkagent"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

// runAgent runs the agent with env and args in a new VM-style workload
// whose hosts file points at srv, and returns its output lines and its
// exit error.
func runAgent(t *testing.T, srv *Server, agent string, env []string, args ...string) ([]sdkagent.Line, error) {
	t.Helper()
	w := podsim.Start(t, podsim.Options{Name: "azagent", HostNetwork: true, Hosts: srv.Hosts()})
	lines, _, err := sdkagent.Run(t, w.Start, agent, env, 90*time.Second, args...)
	return lines, err
}

// agentEnv is the agent's whole environment: PATH, HOME, the CA bundle
// and the AZURE_* variables for client c of srv, plus extra.
func agentEnv(t *testing.T, srv *Server, c Client, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := srv.CA().WriteBundle(bundle); err != nil {
		t.Fatal(err)
	}
	return sdkagent.Env(dir, bundle, sdkagent.Identity{TenantID: srv.TenantID(), ClientID: c.ID, SubscriptionID: srv.SubscriptionID()}, extra...)
}

func TestAcceptance(t *testing.T) {
	testenv.RequireRoot(t, "azurefake listens on port 443 and podsim makes a cgroup and a mount namespace")
	agent := sdkagent.BuildT(t)
	tests := []struct {
		name      string
		federated bool
		async     bool // LROs with Azure-AsyncOperation instead of Location only
	}{
		{"client secret, Location polling", false, false},
		{"workload identity, Azure-AsyncOperation polling", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runAgentAcceptance(t, agent, tt.federated, tt.async)
		})
	}
}

func runAgentAcceptance(t *testing.T, agent string, federated, async bool) {
	const subject = "system:serviceaccount:agents:agent"
	ca, err := testca.New("azurefake acceptance")
	if err != nil {
		t.Fatal(err)
	}
	client := Client{Secret: newSecret(), Federated: []FederatedCredential{{Subject: subject}}}
	if federated {
		client.Secret = "" // the assertion is the only way in
	}
	srv, err := Start(t.Context(), Options{
		CA:             ca,
		Clients:        []Client{client},
		Vaults:         []string{"agent-kv"},
		Secrets:        []Secret{{Vault: "agent-kv", Name: "seed-a", Value: "a"}, {Vault: "agent-kv", Name: "seed-b", Value: "b"}},
		ResourceGroups: []string{"seed-rg1", "seed-rg2", "seed-rg3", "seed-rg4"},
		StorageAccounts: []StorageAccount{
			{ResourceGroup: "seed-rg1", Name: "seedacct1"}, {ResourceGroup: "seed-rg2", Name: "seedacct2"},
			{ResourceGroup: "seed-rg2", Name: "seedacct3"},
		},
		PageSize:       2,
		LROPolls:       1,
		RetryAfter:     time.Second,
		AsyncOperation: async,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if a := srv.Addr(); !a.Addr().IsLoopback() || a.Addr().String() == "127.0.0.1" || a.Port() != 443 {
		t.Fatalf("listening on %s, want 127.x:443", a)
	}
	c := srv.Clients()[0]

	var env []string
	if federated {
		tokenFile := filepath.Join(t.TempDir(), "azure-identity-token")
		if err := srv.WriteFederatedToken(tokenFile, AssertionOptions{Subject: subject}); err != nil {
			t.Fatal(err)
		}
		env = agentEnv(t, srv, c, "AZURE_FEDERATED_TOKEN_FILE="+tokenFile)
	} else {
		env = agentEnv(t, srv, c, "AZURE_CLIENT_SECRET="+c.Secret)
	}

	steps := []string{
		"list-groups",
		"create-group", "agent-rg",
		"list-groups",
		"delete-group", "agent-rg",
		"list-groups",
		"list-storage",
		"create-storage", "seed-rg1", "agentacct",
		"list-keys", "seed-rg1", "agentacct",
		"regenerate-key", "seed-rg1", "agentacct", "key1",
		"set-secret", "agent-kv", "agent-secret", "s3cr3t-value",
		"get-secret", "agent-kv", "agent-secret",
		"list-secrets", "agent-kv",
	}
	lines, runErr := runAgent(t, srv, agent, env, steps...)
	if runErr != nil {
		t.Errorf("agent: %v", runErr)
	}
	for _, l := range lines {
		if !l.OK {
			t.Errorf("step %s %v failed: %+v", l.Step, l.Args, l.Error)
		}
	}
	if len(lines) != 12 {
		t.Fatalf("agent printed %d lines, want 12", len(lines))
	}
	result := func(i int, v any) {
		t.Helper()
		if err := json.Unmarshal(lines[i].Result, v); err != nil {
			t.Fatalf("step %d (%s) result %s: %v", i, lines[i].Step, lines[i].Result, err)
		}
	}
	groupNames := func(i int) []string {
		var gs []struct{ Name string }
		result(i, &gs)
		var out []string
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return out
	}
	if got := groupNames(0); len(got) != 4 {
		t.Errorf("list-groups = %v, want the 4 seeded groups", got)
	}
	if got := groupNames(2); !slices.Contains(got, "agent-rg") || len(got) != 5 {
		t.Errorf("list-groups after create = %v", got)
	}
	if got := groupNames(4); slices.Contains(got, "agent-rg") {
		t.Errorf("list-groups after delete = %v", got)
	}
	var accounts []struct{ Name, ResourceGroup string }
	result(5, &accounts)
	if len(accounts) != 3 || accounts[2].ResourceGroup != "seed-rg2" {
		t.Errorf("list-storage = %+v", accounts)
	}
	var created struct{ Name, ProvisioningState string }
	result(6, &created)
	if created.Name != "agentacct" || created.ProvisioningState != "Succeeded" {
		t.Errorf("create-storage = %+v", created)
	}
	var keys, regenerated []struct{ Name, Value string }
	result(7, &keys)
	result(8, &regenerated)
	if len(keys) != 2 || len(regenerated) != 2 || len(keys[0].Value) != 88 ||
		keys[0].Value == regenerated[0].Value || keys[1].Value != regenerated[1].Value {
		t.Errorf("list-keys %+v, regenerate-key key1 %+v", keys, regenerated)
	}
	var got struct{ Name, Value string }
	result(10, &got)
	if got.Name != "agent-secret" || got.Value != "s3cr3t-value" {
		t.Errorf("get-secret = %+v", got)
	}
	var secrets []string
	result(11, &secrets)
	if strings.Join(secrets, ",") != "agent-secret,seed-a,seed-b" {
		t.Errorf("list-secrets = %v", secrets)
	}

	checkRecord(t, srv, c, federated, async)
	if t.Failed() || testing.Verbose() {
		for _, r := range srv.Requests() {
			t.Logf("azurefake saw %s %s %s%s?%s -> %d %s", r.Proto, r.Method, r.Host, r.Path, r.Query, r.Status, r.AuthError)
		}
	}
}

// checkRecord asserts what azurefake saw: the token flow, paging, the LRO
// polls, the Key Vault challenge, and which token reached each request.
func checkRecord(t *testing.T, srv *Server, c Client, federated, async bool) {
	t.Helper()
	reqs := srv.Requests()
	wantCred, wantACR := "secret", "1"
	if federated {
		wantCred, wantACR = "assertion", "2"
	}
	var tokens, groupPages, polls, kvChallenges, kvPages int
	for _, r := range reqs {
		path := strings.ToLower(r.Path)
		switch {
		case r.Host == LoginHost && strings.HasSuffix(path, "/oauth2/v2.0/token"):
			tokens++
			if r.Status != 200 || r.Credential != wantCred || r.ClientID != c.ID {
				t.Errorf("token request %+v", r)
			}
		case r.Host == ARMHost:
			if r.Status >= 400 || r.Claims["appid"] != c.ID || r.Claims["appidacr"] != wantACR || r.Claims["aud"] != ResourceARM {
				t.Errorf("ARM request %s %s: status %d, claims %v", r.Method, r.Path, r.Status, r.Claims)
			}
			if r.Method == "GET" && strings.HasSuffix(path, "/resourcegroups") {
				groupPages++
			}
			if r.Method == "GET" && (strings.Contains(path, "/operationresults/") || strings.Contains(path, "/asyncoperations/") || strings.Contains(path, "/operationstatuses/")) {
				polls++
				if async != strings.Contains(path, "/operationstatuses/") {
					t.Errorf("poll of %s with AsyncOperation=%v", r.Path, async)
				}
			}
		case strings.HasSuffix(r.Host, VaultSuffix):
			if r.AuthError == "Unauthorized" {
				kvChallenges++
				continue
			}
			if r.Status >= 400 || r.Claims["aud"] != ResourceKeyVault {
				t.Errorf("Key Vault request %s %s: status %d, claims %v", r.Method, r.Path, r.Status, r.Claims)
			}
			if r.Method == "GET" && r.Path == "/secrets" {
				kvPages++
			}
		}
		if r.Method == "DELETE" && !strings.Contains(strings.ToLower(r.Path), "/resourcegroups/agent-rg") {
			t.Errorf("unexpected DELETE %s", r.Path)
		}
	}
	// One token per resource (ARM, Key Vault); 3 list-groups of 2 or 3
	// pages each; 2 LROs of at least 2 polls; one challenge per vault
	// client; 2 pages of secrets.
	if tokens != 2 || groupPages != 2+3+2 || polls < 4 || kvChallenges != 1 || kvPages != 2 {
		t.Errorf("saw %d token requests, %d group pages, %d polls, %d challenges, %d secret pages; want 2, 7, >=4, 1, 2",
			tokens, groupPages, polls, kvChallenges, kvPages)
	}
}

// TestAcceptanceFailures runs the agent against azurefake where Azure says
// no: its lines carry Azure's status, code and message, it keeps going
// after a failed step and exits with status 1.
func TestAcceptanceFailures(t *testing.T) {
	testenv.RequireRoot(t, "azurefake listens on port 443 and podsim makes a cgroup and a mount namespace")
	agent := sdkagent.BuildT(t)
	srv, err := Start(t.Context(), Options{Vaults: []string{"agent-kv"}, ResourceGroups: []string{"seed-rg1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c := srv.Clients()[0]

	type want struct {
		ok     bool
		status int
		code   string
		prefix string
	}
	check := func(lines []sdkagent.Line, runErr error, wants []want) {
		t.Helper()
		var exit *exec.ExitError
		if !errors.As(runErr, &exit) || exit.ExitCode() != 1 {
			t.Errorf("agent exit: %v, want status 1", runErr)
		}
		if len(lines) != len(wants) {
			t.Fatalf("%d lines, want %d", len(lines), len(wants))
		}
		for i, w := range wants {
			l := lines[i]
			if l.OK != w.ok || (!w.ok && (l.Error == nil || l.Error.Status != w.status || l.Error.Code != w.code || !strings.HasPrefix(l.Error.Message, w.prefix))) {
				t.Errorf("step %s: ok %v, error %+v; want %+v", l.Step, l.OK, l.Error, w)
			}
		}
	}

	lines, runErr := runAgent(t, srv, agent, agentEnv(t, srv, c, "AZURE_CLIENT_SECRET="+c.Secret),
		"get-secret", "agent-kv", "missing",
		"delete-group", "no-such-rg",
		"list-keys", "seed-rg1", "nosuchacct",
		"list-groups")
	check(lines, runErr, []want{
		{false, 404, "SecretNotFound", "A secret with (name/id) missing was not found"},
		{false, 404, "ResourceGroupNotFound", "Resource group 'no-such-rg' could not be found."},
		{false, 404, "ResourceNotFound", "The Resource 'Microsoft.Storage/storageAccounts/nosuchacct'"},
		{ok: true},
	})

	lines, runErr = runAgent(t, srv, agent, agentEnv(t, srv, c, "AZURE_CLIENT_SECRET=wrong"), "list-groups")
	check(lines, runErr, []want{{false, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided."}})
}
