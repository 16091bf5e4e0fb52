// SPDX-License-Identifier: Apache-2.0

// Package sdkagent builds and runs test/agent, the "AI agent" written the
// way Azure's SDK samples are, for end-to-end tests and the demo: it
// builds the binary, gives it the environment azidentity reads, runs it
// inside a workload and parses the line it prints per step.
package sdkagent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testenv"
)

// Package is the agent's import path.
const Package = "github.com/interlockhq/interlock/test/agent"

// Build builds the agent into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
		if _, serr := os.Stat(goBin); serr != nil {
			return "", fmt.Errorf("sdkagent: go toolchain not found: %w", err)
		}
	}
	bin := filepath.Join(dir, "agent")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, Package)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("sdkagent: go build: %w\n%s", err, out)
	}
	return bin, nil
}

// BuildT builds the agent for a test (the go toolchain missing is a
// testenv requirement).
func BuildT(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		if _, serr := os.Stat("/usr/local/go/bin/go"); serr != nil {
			testenv.Skip(t, "go toolchain not found: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Identity is what azidentity reads from the environment.
type Identity struct {
	TenantID, ClientID, SubscriptionID string
	// ClientSecret or FederatedTokenFile: the credential.
	ClientSecret, FederatedTokenFile string
}

// Env returns the agent's whole environment: PATH, HOME (home), the CA
// bundle through SSL_CERT_FILE, the AZURE_* variables of id, and extra.
func Env(home, caBundle string, id Identity, extra ...string) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "SSL_CERT_FILE=" + caBundle,
		"AZURE_TENANT_ID=" + id.TenantID, "AZURE_CLIENT_ID=" + id.ClientID, "AZURE_SUBSCRIPTION_ID=" + id.SubscriptionID,
	}
	if id.ClientSecret != "" {
		env = append(env, "AZURE_CLIENT_SECRET="+id.ClientSecret)
	}
	if id.FederatedTokenFile != "" {
		env = append(env, "AZURE_FEDERATED_TOKEN_FILE="+id.FederatedTokenFile)
	}
	return append(env, extra...)
}

// Line is what the agent prints for one step.
type Line struct {
	Step   string          `json:"step"`
	Args   []string        `json:"args"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ParseLines parses the agent's output.
func ParseLines(out []byte) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return lines, fmt.Errorf("sdkagent: agent printed %q: %w", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// Run runs the agent binary with env and the steps args, started by start
// (a podsim workload's Start, or an interlock exec), waits for it (at most
// timeout) and returns its parsed lines, its stderr and its exit error.
func Run(t testing.TB, start func(*exec.Cmd) error, bin string, env []string, timeout time.Duration, args ...string) ([]Line, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := start(cmd); err != nil {
		t.Fatal(err)
	}
	runErr := cmd.Wait()
	t.Logf("agent ran %s:\n%s%s", time.Since(began).Round(time.Millisecond), stdout.String(), stderr.String())
	lines, err := ParseLines(stdout.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return lines, stderr.String(), runErr
}
