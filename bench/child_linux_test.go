// SPDX-License-Identifier: Apache-2.0

// The benchmarks' child processes: BenchmarkHTTPS's upstream server and
// the load clients of BenchmarkHTTPS and BenchmarkPostgres run as
// re-executed test binaries, so that this process's CPU time and memory
// are the proxy's alone.

package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv carries a child's spec (JSON) to the re-executed test binary.
const childEnv = "INTERLOCK_BENCH_CHILD"

// clientTimeout bounds a load client's run beyond its Duration.
const clientTimeout = 2 * time.Minute

// childSpec is what a child process does.
type childSpec struct {
	Mode string `json:"mode"` // "upstream", "client" or "pg-client"

	// upstream: listen on Addr with CertPEM/KeyPEM and answer the list.
	Addr    string `json:"addr,omitempty"`
	CertPEM []byte `json:"certPEM,omitempty"`
	KeyPEM  []byte `json:"keyPEM,omitempty"`

	Load loadSpec   `json:"load"`         // client
	PG   pgLoadSpec `json:"pg,omitempty"` // pg-client
}

// runChild runs the child process of a benchmark that the environment
// describes, if it does, and exits; otherwise it returns.
func runChild() {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return
	}
	var s childSpec
	err := json.Unmarshal([]byte(raw), &s)
	switch {
	case err != nil:
	case s.Mode == "upstream":
		err = serveUpstream(s)
	case s.Mode == "client":
		err = runLoadChild(s.Load.loadShape, func(ctx context.Context) (loadResult, error) { return runLoad(ctx, s.Load) })
	case s.Mode == "pg-client":
		err = runLoadChild(s.PG.loadShape, func(ctx context.Context) (loadResult, error) { return runPGLoad(ctx, s.PG) })
	default:
		err = fmt.Errorf("unknown mode %q", s.Mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runLoadChild runs a load client, bounded in time whatever the proxy
// does, and prints its result.
func runLoadChild(s loadShape, run func(context.Context) (loadResult, error)) error {
	time.AfterFunc(s.Duration+clientTimeout, func() {
		fmt.Fprintln(os.Stderr, "bench child: load client timed out")
		os.Exit(2)
	})
	r, err := run(context.Background())
	if err != nil {
		return err
	}
	if r.RWSyscalls, err = rwSyscalls([]int{0}); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// childCommand returns the command of a child with spec s.
func childCommand(s childSpec) (*exec.Cmd, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	// A child outlives no benchmark, even one killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, nil
}

// runClient runs an HTTPS load client to completion and returns what it
// measured.
func runClient(b *testing.B, l loadSpec) loadResult {
	b.Helper()
	return runLoadClient(b, childSpec{Mode: "client", Load: l}, l.Addr)
}

// runPGClient runs a PostgreSQL load client to completion and returns
// what it measured.
func runPGClient(b *testing.B, l pgLoadSpec) loadResult {
	b.Helper()
	return runLoadClient(b, childSpec{Mode: "pg-client", PG: l}, l.Addr)
}

// runLoadClient runs the load client child s against addr to completion
// and returns what it measured; any failed request fails b.
func runLoadClient(b *testing.B, s childSpec, addr string) loadResult {
	b.Helper()
	cmd, err := childCommand(s)
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("load client against %s: %v", addr, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	var r loadResult
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		b.Fatalf("load client output %q: %v", out, err)
	}
	if r.Errors > 0 {
		b.Fatalf("load client against %s: %d of %d requests failed, first: %s", addr, r.Errors, r.Requests, r.FirstError)
	}
	return r
}

// startUpstream starts the upstream server child on addr and stops it on
// cleanup.
func startUpstream(b *testing.B, addr string, certPEM, keyPEM []byte) {
	b.Helper()
	cmd, err := childCommand(childSpec{Mode: "upstream", Addr: addr, CertPEM: certPEM, KeyPEM: keyPEM})
	if err != nil {
		b.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // it exits when its stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("upstream on %s did not start: %q %v", addr, line, err)
	}
}

// serveUpstream serves the upstream until its stdin closes.
func serveUpstream(s childSpec) error {
	cert, err := tls.X509KeyPair(s.CertPEM, s.KeyPEM)
	if err != nil {
		return fmt.Errorf("upstream certificate: %w", err)
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:   http.HandlerFunc(serveARMList),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	fmt.Println("ready")
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		srv.Close()
	}()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
