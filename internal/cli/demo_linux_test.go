// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf/bpftest"
	"github.com/interlockhq/interlock/internal/cgroups"
)

// TestDemo runs `interlock up --demo` to completion under a time bound,
// checks each outcome it must show, and that it leaves nothing behind.
func TestDemo(t *testing.T) {
	bpftest.Require(t)
	pins := bpftest.PinDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out syncBuffer
	err := Run(ctx, []string{"up", "--demo", "--listen", freeAddr(t), "--socket", filepath.Join(t.TempDir(), "node.sock"),
		"--metrics-listen", freeAddr(t), "--control-metrics-listen", freeAddr(t), "--pin-dir", pins, "--proxy-port", strings.Split(freeAddr(t), ":")[1]},
		strings.NewReader(""), &out, &out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		`allowed: the agent got [{"name":"rg-agents"`,
		`allowed: the agent got [{"name":"key1","value":"[MASKED]"},{"name":"key2","value":"[MASKED]"}]`,
		"blocked: the SDK returned 403 RequestDisallowedByInterlock: no-rg-delete",
		"held: approval",
		"approved: by the demo approver (local-admin",
		`"value":"[MASKED]"}`,
		"== replay of session",
		"audit export: wrote ",
		"\nVERIFIED: every file, chunk and audit record is proven",
		"demo done",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(got, "Sup3r-s3cret-") {
		t.Error("the demo secret's real value was shown")
	}
	// The PostgreSQL steps run where its binaries are (make test installs
	// them), and say they are skipped where not.
	pgWants := []string{
		"| Ada Lovelace | [MASKED]",
		"masked: the email column was replaced",
		"blocked: psql got ERROR: RequestDisallowedByInterlock: no-drop-or-truncate: Agents may not drop or truncate tables.",
		"the statement never ran: the server (asked directly) still has 3 customers",
	}
	if bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(bins) == 0 {
		pgWants = []string{"customers table steps will be SKIPPED", "SKIPPED: PostgreSQL is not installed"}
	}
	for _, want := range pgWants {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	for _, email := range []string{"ada@analytical.example", "grace@cobol.example"} {
		if strings.Contains(got, email) {
			t.Errorf("a real email (%s) was shown", email)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", got)
	}
	if _, err := os.Stat(pins); !os.IsNotExist(err) {
		t.Errorf("pins left at %s", pins)
	}
	root, err := cgroups.Mount()
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(root, "interlock-podsim", "demo-agent*")); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
	if m := regexp.MustCompile(`a throwaway server \(in (\S+)\)`).FindStringSubmatch(got); m != nil {
		if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
			t.Errorf("the demo's PostgreSQL directory %s is left", m[1])
		}
	}
}
