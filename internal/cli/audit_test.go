// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func TestAuditCommands(t *testing.T) {
	p := startPlane(t)
	node := p.node("vm1")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	uploadChunk(t, node, 1, recorded("s-allowed", "billing", "app-1", interlockv1.Action_ACTION_ALLOW, t0))
	carol := p.person("carol", "auditors")
	bob := p.person("bob", "approvers")
	dir := t.TempDir()
	write := func(name, s string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	old, err := p.cli(carol, "audit", "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	if l := lines(old); len(l) != 6 || !strings.HasPrefix(l[0], "interlock/") || l[1] != "2" || !strings.HasPrefix(l[3], "time ") || !strings.HasPrefix(l[5], "\u2014 interlock/") {
		t.Errorf("audit checkpoint:\n%s", old)
	}
	oldFile := write("old.note", old)
	key, err := p.cli(carol, "audit", "checkpoint", "--verifier-key")
	if err != nil || !strings.HasPrefix(key, "interlock/") {
		t.Fatalf("--verifier-key = %q, %v", key, err)
	}
	keyFile := write("log.pub", key)
	if out, err := p.cli(carol, "audit", "checkpoint", "-o", "json"); err != nil || !strings.Contains(out, `"key_id"`) {
		t.Errorf("audit checkpoint -o json = %s, %v", out, err)
	}
	if _, err := p.cli(bob, "audit", "checkpoint"); err == nil || !strings.Contains(err.Error(), "permission denied: audit checkpoint needs role auditor or admin") {
		t.Errorf("checkpoint as approver: %v", err)
	}

	uploadChunk(t, node, 2, recorded("s-denied", "reports", "app-2", interlockv1.Action_ACTION_DENY, t0.Add(time.Minute)))
	bundle := filepath.Join(dir, "evidence.tar")
	var stderr bytes.Buffer
	err = Run(t.Context(), []string{"audit", "export", "--decision", "deny", "-o", bundle, "--server", p.addr, "--ca", p.caFile, "--token-file", carol},
		strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if err != nil || !strings.Contains(stderr.String(), "audit export: wrote "+bundle) {
		t.Fatalf("audit export = %v\n%s", err, stderr.String())
	}
	if _, err := p.cli(carol, "audit", "export"); err == nil || !strings.Contains(err.Error(), "needs -o FILE") {
		t.Errorf("export without -o: %v", err)
	}

	tests := []struct {
		name    string
		args    []string
		want    []string // in stdout, in order
		failed  string   // in the error; "" for success
		noWrite bool
	}{
		{"with key", []string{"audit", "verify", bundle, "--key", keyFile},
			[]string{"bundle: 1 sessions, 1 chunks, 5 events, 1 audit records", "AU-9", "OK", "AU-10", "OK", "1 chunk inclusion proofs verify", "VERIFIED: "}, "", false},
		{"without key", []string{"audit", "verify", bundle},
			[]string{"WARNING: no --key given", "VERIFIED (internally consistent only"}, "", false},
		{"consistent with an older checkpoint", []string{"audit", "verify", bundle, "--key", keyFile, "--consistent-with", oldFile},
			[]string{"consistent with " + oldFile, "VERIFIED: "}, "", false},
		{"another log's checkpoint", []string{"audit", "verify", bundle, "--key", keyFile, "--consistent-with", write("forged.note", strings.Replace(old, "\n2\n", "\n1\n", 1))},
			[]string{"FAILED: AU-9: --consistent-with"}, "no valid signature", false},
		{"wrong key", []string{"audit", "verify", bundle, "--key", write("other.pub", "other+00000000+AfakeAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")},
			nil, "log key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.cli(carol, tt.args...)
			if tt.failed == "" && err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if tt.failed != "" && (err == nil || !strings.Contains(err.Error(), tt.failed)) {
				t.Fatalf("error %v, want it to say %q\n%s", err, tt.failed, out)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}

	// Tampered: one byte of the bundle's only chunk.
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("\x28\xb5\x2f\xfd")) // the zstd frame
	b[i+20] ^= 0xff
	bad := filepath.Join(dir, "tampered.tar")
	os.WriteFile(bad, b, 0o644)
	out, err := p.cli(carol, "audit", "verify", bad, "--key", keyFile)
	if err == nil || !strings.Contains(err.Error(), "FAILED verification") || !strings.Contains(out, "\nFAILED: AU-9: chunks/") {
		t.Errorf("tampered bundle: %v\n%s", err, out)
	}
}
