// SPDX-License-Identifier: Apache-2.0

// The node unit's capability bounding set, tried for real: the agent runs
// with exactly those capabilities and intercepts a workload, and fails to
// start with one fewer.

package deploy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/test/testenv"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// setprivCaps turns "CAP_BPF CAP_NET_ADMIN" into setpriv's "-all,+bpf,+net_admin".
func setprivCaps(bounding string) string {
	s := "-all"
	for _, c := range strings.Fields(bounding) {
		s += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
	}
	return s
}

func TestNodeUnitCapabilities(t *testing.T) {
	testenv.RequireRoot(t, "load BPF and drop capabilities")
	for _, tool := range []string{"setpriv", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Skip(t, "%s is not installed: %v", tool, err)
		}
	}
	if _, err := cgroups.Mount(); err != nil {
		testenv.Skip(t, "no cgroup v2: %v", err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/bpf", &st); err != nil || st.Type != 0xcafe4a11 {
		testenv.Skip(t, "/sys/fs/bpf is not a bpffs (mount -t bpf bpf /sys/fs/bpf): %v", err)
	}
	u := parseUnit(t, "systemd/interlock-node.service")
	bounding := u.get("CapabilityBoundingSet")
	exe := strings.Fields(u.get("ExecStart"))[1:]
	exe = exe[:len(exe)-1] // $INTERLOCK_NODE_ARGS
	bin := buildBinary(t, t.TempDir())

	for _, tc := range []struct {
		name string
		caps string
		ok   bool
	}{
		{"unit's bounding set", bounding, true},
		{"without CAP_NET_ADMIN", strings.ReplaceAll(bounding, "CAP_NET_ADMIN", ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pins := fmt.Sprintf("/sys/fs/bpf/interlock-deploytest-%08x", rand.Uint32())
			t.Cleanup(func() { os.RemoveAll(pins) }) // unpinning detaches
			socket := filepath.Join(dir, "node.sock")
			metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
			target := freePort(t) // intercepted; nothing listens there
			args := append([]string{"--bounding-set=" + setprivCaps(tc.caps), "--inh-caps=-all", "--", bin}, exe...)
			args = append(args, "--pin-dir="+pins, "--socket="+socket, "--metrics-listen="+metrics,
				"--proxy-port="+strconv.Itoa(freePort(t)), "--ports="+strconv.Itoa(target))
			agent := exec.Command("setpriv", args...)
			var out syncBuffer
			agent.Stdout, agent.Stderr = &out, &out
			if err := agent.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- agent.Wait() }()
			t.Cleanup(func() {
				_ = agent.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(20 * time.Second):
					_ = agent.Process.Kill()
					<-exited
				}
			})

			ready := func() bool {
				resp, err := http.Get("http://" + metrics + "/readyz")
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			}
			deadline := time.Now().Add(20 * time.Second)
			for !ready() {
				select {
				case err := <-exited:
					exited <- err
					if tc.ok {
						t.Fatalf("agent exited: %v\n%s", err, out.String())
					}
					if !strings.Contains(out.String(), "operation not permitted") {
						t.Errorf("agent exited (%v) without saying what it lacks:\n%s", err, out.String())
					}
					return
				case <-time.After(50 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("agent not ready in 20s:\n%s", out.String())
				}
			}
			if !tc.ok {
				t.Fatalf("agent became ready without %s", tc.name)
			}

			// A workload's connect is redirected to the proxy and
			// attributed to the workload.
			work := exec.Command(bin, "exec", "--socket="+socket, "--workload=captest", "--",
				"bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", target))
			if b, err := work.CombinedOutput(); err != nil {
				t.Fatalf("interlock exec: %v\n%s\nagent:\n%s", err, b, out.String())
			}
			// The proxy accepts the connection on its own time, after
			// the workload's connect returned: wait for its count.
			wants := []string{`interlock_node_bpf_connects_total{verdict="redirected"} 1`, `workload="captest"`}
			var body []byte
			for deadline := time.Now().Add(10 * time.Second); ; {
				resp, err := http.Get("http://" + metrics + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if bytes.Contains(body, []byte(wants[0])) && bytes.Contains(body, []byte(wants[1])) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, want := range wants {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("metrics lack %s:\n%s\nagent:\n%s", want, body, out.String())
				}
			}
		})
	}
}
