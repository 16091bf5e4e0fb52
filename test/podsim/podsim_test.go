// SPDX-License-Identifier: Apache-2.0

// Test main and helpers: the test binary doubles as a Go program to run
// inside workloads (PODSIM_HELPER=mode, PODSIM_ARG=argument).

package podsim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testenv"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv("PODSIM_HELPER"); mode != "" {
		if err := helper(mode, os.Getenv("PODSIM_ARG")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper is the Go program run inside workloads.
func helper(mode, arg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch mode {
	case "resolve": // print the addresses of host name arg
		addrs, err := net.DefaultResolver.LookupHost(ctx, arg)
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(addrs, " "))
	case "dial": // print what the TCP server at arg sends
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", arg)
		if err != nil {
			return err
		}
		defer c.Close()
		b, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		os.Stdout.Write(b)
	case "links": // print the network interfaces, one a line
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, i := range ifs {
			fmt.Println(i.Name)
		}
	default:
		return fmt.Errorf("unknown helper mode %q", mode)
	}
	return nil
}

// helperCmd runs this test binary as the helper program.
func helperCmd(t testing.TB, mode, arg string, env ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), self)
	// GORACE: a race-enabled helper would sleep a second at exit.
	cmd.Env = append([]string{"PODSIM_HELPER=" + mode, "PODSIM_ARG=" + arg, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GORACE=atexit_sleep_ms=0"}, env...)
	return cmd
}

// output starts cmd in w and returns its stdout and stderr once it ends.
func output(t testing.TB, w *Workload, cmd *exec.Cmd) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := w.Start(cmd); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	err = cmd.Wait()
	return out.String(), errb.String(), err
}

// mustOutput is output that fails the test when cmd fails.
func mustOutput(t testing.TB, w *Workload, cmd *exec.Cmd) string {
	t.Helper()
	out, errs, err := output(t, w, cmd)
	if err != nil {
		t.Fatalf("%v: %v; stderr: %s", cmd.Args, err, errs)
	}
	return out
}

// lines returns the sorted non-empty lines of s.
func lines(s string) []string {
	var l []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			l = append(l, line)
		}
	}
	slices.Sort(l)
	return l
}

// requireTool fails (CI) or skips unless the program is installed.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		testenv.Skip(t, "needs %s: %v", name, err)
	}
}
