// SPDX-License-Identifier: Apache-2.0

// Tests that unmodified programs inside a workload resolve names from its
// hosts file: glibc (getent, psql), Go's own resolver and Go's cgo resolver.

package podsim

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// hostsMounts returns the lines of this process's mountinfo that mention
// /etc/hosts or /etc/resolv.conf: none may appear while workloads run.
func hostsMounts(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, " /etc/hosts ") || strings.Contains(line, " /etc/resolv.conf ") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestHosts(t *testing.T) {
	hosts := map[string]string{
		"management.azure.com":      "127.0.0.11",
		"login.microsoftonline.com": "127.0.0.12",
		"kv1.vault.azure.net":       "127.0.0.13",
		"db.postgres.example":       "127.0.0.14",
		"v6.example":                "::1",
	}
	before, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	mountsBefore := hostsMounts(t)

	for _, kind := range []struct {
		name string
		opts Options
	}{
		{"pod", Options{Hosts: hosts}},
		{"vm", Options{HostNetwork: true, Hosts: hosts}},
	} {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			w := Start(t, kind.opts)
			for _, tt := range []struct {
				name  string
				cmd   func(host string) *exec.Cmd
				check func(t *testing.T, host, stdout, stderr string)
			}{
				{"getent (glibc)", func(host string) *exec.Cmd {
					return exec.Command("getent", "hosts", host)
				}, func(t *testing.T, host, stdout, _ string) {
					if f := strings.Fields(stdout); len(f) < 2 || f[0] != hosts[host] || f[1] != host {
						t.Errorf("getent hosts %s: %q, want %s", host, stdout, hosts[host])
					}
				}},
				{"go resolver", func(host string) *exec.Cmd {
					return helperCmd(t, "resolve", host, "GODEBUG=netdns=go+2")
				}, func(t *testing.T, host, stdout, stderr string) {
					if strings.TrimSpace(stdout) != hosts[host] || !strings.Contains(stderr, "hostLookupOrder("+host+") = files") {
						t.Errorf("go resolver %s: %q (%s), want %s from files", host, stdout, stderr, hosts[host])
					}
				}},
				{"cgo resolver", func(host string) *exec.Cmd {
					return helperCmd(t, "resolve", host, "GODEBUG=netdns=cgo+2")
				}, func(t *testing.T, host, stdout, stderr string) {
					if strings.TrimSpace(stdout) != hosts[host] || !strings.Contains(stderr, "hostLookupOrder("+host+") = cgo") {
						t.Errorf("cgo resolver %s: %q (%s), want %s via cgo", host, stdout, stderr, hosts[host])
					}
				}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					for host := range hosts {
						stdout, stderr, err := output(t, w, tt.cmd(host))
						if err != nil {
							t.Errorf("%s: %v: %s", host, err, stderr)
							continue
						}
						tt.check(t, host, stdout, stderr)
					}
				})
			}

			t.Run("psql (glibc, libpq)", func(t *testing.T) {
				requireTool(t, "psql")
				// Port 1 on loopback refuses: the error names the address
				// libpq resolved.
				_, stderr, err := output(t, w, exec.Command("psql", "-X", "-w",
					"host=db.postgres.example port=1 user=x dbname=x connect_timeout=5", "-c", "select 1"))
				if err == nil || !strings.Contains(stderr, `"db.postgres.example" (127.0.0.14), port 1 failed`) {
					t.Errorf("psql: %v: %s; want a refused connection to 127.0.0.14", err, stderr)
				}
			})

			t.Run("unknown name stays on loopback", func(t *testing.T) {
				out := mustOutput(t, w, exec.Command("cat", "/etc/resolv.conf"))
				if out != resolvConf {
					t.Errorf("resolv.conf inside: %q, want %q", out, resolvConf)
				}
				// The query goes to 127.0.0.1:53 (the pod's own loopback or
				// the host's), where nothing answers.
				if out, _, err := output(t, w, exec.Command("getent", "hosts", "unknown.podsim.invalid")); err == nil {
					t.Errorf("getent hosts unknown.podsim.invalid: %q, want not found", out)
				}
			})

			t.Run("in-place edit", func(t *testing.T) {
				data, err := os.ReadFile(w.HostsFile())
				if err != nil {
					t.Fatal(err)
				}
				data = append(data, "127.0.0.99\tadded.example\n"...)
				if err := os.WriteFile(w.HostsFile(), data, 0o644); err != nil {
					t.Fatal(err)
				}
				out := mustOutput(t, w, exec.Command("getent", "hosts", "added.example"))
				if f := strings.Fields(out); len(f) < 1 || f[0] != "127.0.0.99" {
					t.Errorf("getent after edit: %q", out)
				}
			})
		})
	}

	t.Cleanup(func() {
		after, err := os.ReadFile("/etc/hosts")
		if err != nil || !bytes.Equal(after, before) {
			t.Errorf("host /etc/hosts changed: %q, %v; was %q", after, err, before)
		}
		if m := hostsMounts(t); m != mountsBefore {
			t.Errorf("host mounts over /etc changed:\n%s\nwas:\n%s", m, mountsBefore)
		}
	})
}
