// SPDX-License-Identifier: Apache-2.0

// Tests of option validation, naming and the hosts file text.

package podsim

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	for _, tt := range []struct {
		name    string
		opts    Options
		wantErr string // "" means valid
	}{
		{"zero", Options{}, ""},
		{"full", Options{Name: "agent-1", Veth: true, Hosts: map[string]string{"management.azure.com": "127.0.0.2", "db": "::1"}}, ""},
		{"vm", Options{Name: "vm", HostNetwork: true}, ""},
		{"upper case", Options{Name: "Agent"}, "only [a-z0-9-]"},
		{"slash", Options{Name: "a/b"}, "only [a-z0-9-]"},
		{"too long", Options{Name: strings.Repeat("a", maxNameLen+1)}, "longer than"},
		{"veth on host network", Options{HostNetwork: true, Veth: true}, "veth needs a network namespace"},
		{"bad ip", Options{Hosts: map[string]string{"kv1.vault.azure.net": "300.1.1.1"}}, "kv1.vault.azure.net"},
		{"zone", Options{Hosts: map[string]string{"x": "fe80::1%eth0"}}, "zone"},
		{"empty name", Options{Hosts: map[string]string{"": "127.0.0.1"}}, "bad name"},
		{"space in name", Options{Hosts: map[string]string{"a b": "127.0.0.1"}}, "bad name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("validate: %v, want error containing %q", err, tt.wantErr)
			}
			// New refuses before it touches the system, as any user may.
			if _, err := New(context.Background(), tt.opts); err == nil || !strings.HasPrefix(err.Error(), "podsim: ") {
				t.Fatalf("New: %v, want a podsim: error", err)
			}
		})
	}
}

func TestUniqueName(t *testing.T) {
	for _, tt := range []struct {
		label, wantRE, wantNetns string
	}{
		{"", `^il-[0-9a-f]{6}$`, `^il-[0-9a-f]{6}$`},
		{"agent", `^agent-[0-9a-f]{6}$`, `^il-agent-[0-9a-f]{6}$`},
		{"il-x", `^il-x-[0-9a-f]{6}$`, `^il-x-[0-9a-f]{6}$`},
	} {
		name := uniqueName(tt.label)
		if !regexp.MustCompile(tt.wantRE).MatchString(name) {
			t.Errorf("uniqueName(%q) = %q, want %s", tt.label, name, tt.wantRE)
		}
		if ns := netnsName(name); !regexp.MustCompile(tt.wantNetns).MatchString(ns) {
			t.Errorf("netnsName(%q) = %q, want %s", name, ns, tt.wantNetns)
		}
	}
}

func TestHostsFileText(t *testing.T) {
	for _, tt := range []struct {
		name    string
		entries map[string]string
		want    string
	}{
		{"empty", nil, "127.0.0.1\tlocalhost\n::1\tlocalhost\n"},
		{"sorted by name", map[string]string{
			"management.azure.com":      "127.0.0.2",
			"kv1.vault.azure.net":       "127.0.0.3",
			"login.microsoftonline.com": "::1",
		}, "127.0.0.1\tlocalhost\n::1\tlocalhost\n" +
			"127.0.0.3\tkv1.vault.azure.net\n" +
			"::1\tlogin.microsoftonline.com\n" +
			"127.0.0.2\tmanagement.azure.com\n"},
		{"canonical ip", map[string]string{"db": "0:0::0:1"}, "127.0.0.1\tlocalhost\n::1\tlocalhost\n::1\tdb\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(hostsFile(tt.entries))
			got = got[strings.Index(got, "\n")+1:] // drop the comment line
			if got != tt.want {
				t.Errorf("hostsFile:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
