// SPDX-License-Identifier: Apache-2.0

// The systemd units and install.sh: hardening, command lines, the
// example environment files, systemd-analyze verify, and the install
// script's staging, idempotence and uninstall.

package deploy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testenv"
)

// unit is a parsed unit file: section → key → values (in order).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	var section string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s: cannot parse %q", path, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u unit) get(key string) string {
	vs := u["Service"][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// envArgs returns the values an environment file gives name: the
// assignment and the commented examples.
func envArgs(t *testing.T, path, name string) (set string, examples []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			set = v
		} else if v, ok := strings.CutPrefix(line, "#"+name+"="); ok {
			examples = append(examples, v)
		}
	}
	return set, examples
}

func TestSystemdUnits(t *testing.T) {
	common := map[string]string{
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "SystemCallArchitectures": "native",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "RestrictSUIDSGID": "yes",
		"Restart": "on-failure", "KillSignal": "SIGTERM",
	}
	for _, tc := range []struct {
		file, command, env, envVar string
		want                       map[string]string
	}{
		{"interlock-node.service", "node", "node.env", "INTERLOCK_NODE_ARGS", map[string]string{
			"CapabilityBoundingSet": "CAP_BPF CAP_NET_ADMIN", "ReadWritePaths": "/sys/fs/bpf",
			"RuntimeDirectory": "interlock",
		}},
		{"interlock-control.service", "control", "control.env", "INTERLOCK_CONTROL_ARGS", map[string]string{
			"CapabilityBoundingSet": "", "AmbientCapabilities": "", "User": "interlock", "StateDirectory": "interlock",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			u := parseUnit(t, filepath.Join("systemd", tc.file))
			for k, v := range common {
				if got := u.get(k); got != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
			for k, v := range tc.want {
				if got, ok := u["Service"][k]; !ok || u.get(k) != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
			exe := strings.Fields(u.get("ExecStart"))
			if len(exe) < 2 || exe[0] != "/usr/local/bin/interlock" || exe[1] != tc.command {
				t.Fatalf("ExecStart=%q", u.get("ExecStart"))
			}
			set, examples := envArgs(t, filepath.Join("systemd", tc.env), tc.envVar)
			if len(examples) == 0 {
				t.Errorf("%s has no example %s", tc.env, tc.envVar)
			}
			lines := map[string]string{"as installed": set}
			for i, e := range examples {
				lines[fmt.Sprintf("example %d", i)] = e
			}
			var drain time.Duration
			for what, extra := range lines {
				args := slices.DeleteFunc(slices.Clone(exe[1:]), func(a string) bool { return a == "$"+tc.envVar })
				args = append(args, strings.Fields(extra)...)
				if err := checkCommandLine(args); err != nil {
					t.Errorf("ExecStart with %s %s: %v", tc.env, what, err)
				}
				if d, err := time.ParseDuration(argMap(args)["drain-timeout"]); err == nil {
					drain = max(drain, d)
				}
			}
			if !slices.Contains(exe, "$"+tc.envVar) {
				t.Errorf("ExecStart does not pass $%s", tc.envVar)
			}
			if tc.command == "node" && drain == 0 {
				drain = 10 * time.Second // interlock node's default
			}
			stop, err := time.ParseDuration(u.get("TimeoutStopSec"))
			if err != nil || stop < drain+5*time.Second {
				t.Errorf("TimeoutStopSec=%s leaves no time after a drain of %v", u.get("TimeoutStopSec"), drain)
			}
		})
	}
}

// buildBinary builds cmd/interlock into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "interlock")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/interlock")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// install runs install.sh with args and DESTDIR.
func install(t *testing.T, destdir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("./systemd/install.sh", args...)
	cmd.Env = append(os.Environ(), "DESTDIR="+destdir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install.sh %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// tree hashes every file and directory under root, with its mode.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := info.Mode().String()
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[strings.TrimPrefix(p, root)] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInstallScript(t *testing.T) {
	bin := buildBinary(t, t.TempDir())
	root := t.TempDir()
	install(t, root, "--bin", bin)
	first := tree(t, root)
	for _, f := range []string{"/usr/local/bin/interlock", "/etc/systemd/system/interlock-node.service",
		"/etc/systemd/system/interlock-control.service", "/etc/interlock/policy.yaml",
		"/etc/interlock/node.env", "/etc/interlock/control.env", "/var/lib/interlock"} {
		if _, ok := first[f]; !ok {
			t.Errorf("install did not make %s", f)
		}
	}
	if !strings.HasPrefix(first["/var/lib/interlock"], "drwx------") {
		t.Errorf("/var/lib/interlock is %s, want 0700", first["/var/lib/interlock"])
	}

	// Idempotent, and an edited configuration is kept.
	edited := filepath.Join(root, "etc/interlock/node.env")
	if err := os.WriteFile(edited, []byte("INTERLOCK_NODE_ARGS=--unit=a=a.service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := tree(t, root)
	out := install(t, root, "--bin", bin)
	if after := tree(t, root); !mapsEqual(before, after) {
		t.Errorf("a second install changed the tree:\nbefore %v\nafter  %v", before, after)
	}
	if !strings.Contains(out, "kept "+edited) {
		t.Errorf("second install did not say it kept %s:\n%s", edited, out)
	}

	// The staged units pass systemd-analyze verify.
	verifyUnits(t, root)

	// Uninstall keeps data and configuration; --purge removes them.
	if err := os.MkdirAll(filepath.Join(root, "sys/fs/bpf/interlock/links"), 0o700); err != nil {
		t.Fatal(err)
	}
	install(t, root, "--uninstall")
	got := tree(t, root)
	for _, f := range []string{"/usr/local/bin/interlock", "/etc/systemd/system/interlock-node.service", "/sys/fs/bpf/interlock"} {
		if _, ok := got[f]; ok {
			t.Errorf("uninstall left %s", f)
		}
	}
	for _, f := range []string{"/etc/interlock/node.env", "/var/lib/interlock"} {
		if _, ok := got[f]; !ok {
			t.Errorf("uninstall removed %s (without --purge)", f)
		}
	}
	install(t, root, "--uninstall", "--purge")
	got = tree(t, root)
	for _, f := range []string{"/etc/interlock", "/var/lib/interlock"} {
		if _, ok := got[f]; ok {
			t.Errorf("--purge left %s", f)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// verifyUnits runs systemd-analyze verify on the units staged under root,
// with the system's own units beside them (for the targets they name).
// Any message fails: verify exits 0 on unknown keys and bad values.
func verifyUnits(t *testing.T, root string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Skip(t, "systemd-analyze is not installed: %v", err)
	}
	sys := "/usr/lib/systemd/system"
	if _, err := os.Stat(sys); err != nil {
		testenv.Skip(t, "no %s for the units' dependencies: %v", sys, err)
	}
	dst := filepath.Join(root, sys)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", sys, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v\n%s", sys, err, out)
	}
	defer os.RemoveAll(filepath.Join(root, "usr/lib"))
	cmd := exec.Command(sa, "verify", "--root="+root, "interlock-node.service", "interlock-control.service")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || out.Len() > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out.String())
	}
}

// TestInstallScriptChecks: without root it refuses before changing
// anything, and says why.
func TestInstallScriptChecks(t *testing.T) {
	testenv.RequireRoot(t, "setpriv to an unprivileged user")
	if _, err := exec.LookPath("setpriv"); err != nil {
		testenv.Skip(t, "setpriv (util-linux) is not installed: %v", err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", "./systemd/install.sh", "--bin", "/nonexistent")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "run as root") {
		t.Errorf("install.sh as nobody: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--purge"}, {"--enable", "both"}, {"--frobnicate"}} {
		cmd := exec.Command("./systemd/install.sh", args...)
		cmd.Env = append(os.Environ(), "DESTDIR="+dir)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.HasPrefix(string(out), "install.sh: ") {
			t.Errorf("install.sh %q: %v\n%s", args, err, out)
		}
	}
}
