// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/internal/version"
)

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if want := version.Get().String() + "\n"; out != want {
		t.Errorf("version = %q, want %q", out, want)
	}
	out, _, err = run(t, "version", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var info version.Info
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, out)
	}
	if info.GoVersion == "" || info.Platform == "" || info.Version == "" {
		t.Errorf("version -o json misses fields: %+v", info)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"version", "-o", "yaml"}, `--output "yaml"`},
		{[]string{"--log-format", "xml", "version"}, `--log-format "xml"`},
		{[]string{"--log-level", "loud", "version"}, `--log-level "loud"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := run(t, tt.args...)
			var usage *UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v, want a UsageError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to name %s", err, tt.want)
			}
		})
	}
}

// TestNoStubs fails if a listed command has no code behind it: every
// command must either run something or only group subcommands.
func TestNoStubs(t *testing.T) {
	var out, errb bytes.Buffer
	root := newRoot(strings.NewReader(""), &out, &errb)
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.RunE == nil && c.Run == nil && !c.HasSubCommands() {
			t.Errorf("command %q is listed but does nothing", c.Name())
		}
	}
}
