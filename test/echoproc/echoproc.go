// SPDX-License-Identifier: Apache-2.0

// Package echoproc runs the two ends of an intercepted connection as real
// processes for end-to-end tests: an "agent" that dials like an unmodified
// program (started inside a workload), and an echo "server" at the
// original destination (started outside every workload). Separate
// processes keep the proxy's own accounting (/proc/self/io, file
// descriptors) clean, and put the agent in a cgroup of its own.
//
// The processes are the test binary itself, re-executed: a package's
// TestMain must call Main.
package echoproc

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

const modeEnv = "INTERLOCK_ECHOPROC_MODE"

// Main runs the child mode the environment asks for, or the tests.
func Main(m *testing.M) {
	mode := os.Getenv(modeEnv)
	if mode == "" {
		os.Exit(m.Run())
	}
	args := os.Args[len(os.Args)-2:]
	var err error
	switch mode {
	case "agent":
		err = agent(args[0], args[1])
	case "loop":
		err = loop(args[0], args[1])
	case "conns":
		err = conns(args[0], args[1])
	case "send":
		err = send(args[0], args[1])
	case "server":
		err = server(args[1], false)
	case "sink":
		err = server(args[1], true)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, mode+":", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func command(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$"}, args...)...)
	cmd.Env = append(os.Environ(), modeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

// AgentResult is what an agent prints.
type AgentResult struct {
	Peer   string `json:"peer"`   // getpeername of its connection
	Sent   int64  `json:"sent"`   // bytes written
	Echoed int64  `json:"echoed"` // bytes read back
	Match  bool   `json:"match"`  // what came back is what was sent
}

// Agent returns the command of an agent that dials addr, sends size
// pseudo-random bytes, half-closes, and reads the echo. Start it where it
// belongs (podsim's Workload.Start), then pass its stdout to ParseAgent.
func Agent(addr netip.AddrPort, size int64) *exec.Cmd {
	return command("agent", addr.String(), strconv.FormatInt(size, 10))
}

// ParseAgent decodes an agent's output.
func ParseAgent(out []byte) (AgentResult, error) {
	var r AgentResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("agent output %q: %w", out, err)
	}
	return r, nil
}

func agent(addr, size string) error {
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return err
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	res := AgentResult{Peer: c.RemoteAddr().String()}
	sent := sha256.New()
	errc := make(chan error, 1)
	go func() {
		var err error
		res.Sent, err = io.Copy(io.MultiWriter(c, sent), io.LimitReader(rand.NewChaCha8([32]byte{1}), n))
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		errc <- err
	}()
	got := sha256.New()
	if res.Echoed, err = io.Copy(got, c); err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	res.Match = string(sent.Sum(nil)) == string(got.Sum(nil))
	return json.NewEncoder(os.Stdout).Encode(res)
}

// LoopResult is what a dial loop prints.
type LoopResult struct {
	OK      int `json:"ok"`      // connections that echoed their bytes
	Refused int `json:"refused"` // connects refused with EPERM (failing closed)
	Other   int `json:"other"`   // any other failure
	// FirstRefusedNs and LastRefusedNs bound the window of refusals, in
	// ns since the loop started; -1 when none.
	FirstRefusedNs int64    `json:"firstRefusedNs"`
	LastRefusedNs  int64    `json:"lastRefusedNs"`
	Errors         []string `json:"errors,omitempty"` // the first few other failures
}

// Loop returns the command of a dial loop: it dials addr again and again
// for d, each connection echoing 16 bytes, and reports how each went.
func Loop(addr netip.AddrPort, d time.Duration) *exec.Cmd {
	return command("loop", addr.String(), d.String())
}

// ParseLoop decodes a dial loop's output.
func ParseLoop(out []byte) (LoopResult, error) {
	var r LoopResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("loop output %q: %w", out, err)
	}
	return r, nil
}

func loop(addr, dur string) error {
	d, err := time.ParseDuration(dur)
	if err != nil {
		return err
	}
	res := LoopResult{FirstRefusedNs: -1, LastRefusedNs: -1}
	start := time.Now()
	msg := []byte("interlock-echo!\n")
	buf := make([]byte, len(msg))
	for time.Since(start) < d {
		err := func() error {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(msg); err != nil {
				return err
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				return err
			}
			if string(buf) != string(msg) {
				return errors.New("echo mismatch")
			}
			return nil
		}()
		switch {
		case err == nil:
			res.OK++
		case errors.Is(err, syscall.EPERM):
			res.Refused++
			at := time.Since(start).Nanoseconds()
			if res.FirstRefusedNs < 0 {
				res.FirstRefusedNs = at
			}
			res.LastRefusedNs = at
			time.Sleep(time.Millisecond) // a real client would back off
		default:
			res.Other++
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, err.Error())
			}
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// Server is an echo server child process.
type Server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// StartServer starts an echo server on addr, outside every workload, and
// kills it on cleanup.
func StartServer(t testing.TB, addr netip.AddrPort) *Server {
	t.Helper()
	return startServer(t, "server", addr, (*exec.Cmd).Start)
}

// StartServerWith starts an echo server on addr with start, e.g. a podsim
// workload's Start to put it in a pod's network namespace.
func StartServerWith(t testing.TB, addr netip.AddrPort, start func(*exec.Cmd) error) *Server {
	t.Helper()
	return startServer(t, "server", addr, start)
}

// StartSink starts a server on addr that reads and discards everything it
// receives (for throughput runs), outside every workload.
func StartSink(t testing.TB, addr netip.AddrPort) *Server {
	t.Helper()
	return startServer(t, "sink", addr, (*exec.Cmd).Start)
}

func startServer(t testing.TB, mode string, addr netip.AddrPort, start func(*exec.Cmd) error) *Server {
	t.Helper()
	cmd := command(mode, "-", addr.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := start(cmd); err != nil {
		t.Fatal(err)
	}
	s := &Server{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, err := s.out.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("echo server on %v did not start: %q %v", addr, line, err)
	}
	return s
}

// Accepted stops the server and returns how many connections it accepted.
func (s *Server) Accepted(t testing.TB) int {
	t.Helper()
	s.stdin.Close()
	var n int
	if _, err := fmt.Fscan(s.out, &n); err != nil {
		t.Fatalf("read echo server count: %v", err)
	}
	_ = s.cmd.Wait()
	return n
}

func server(addr string, sink bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	accepted := make(chan struct{}, 1<<20)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() {
				defer c.Close()
				if sink {
					_, _ = io.Copy(io.Discard, c)
					return
				}
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	ln.Close()
	fmt.Println(len(accepted))
	return nil
}

// RandomLoopback returns 127.a.b.c:port with random a, b, c (a ≠ 0, c > 1),
// so parallel test packages do not collide on an original destination.
func RandomLoopback(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(250)), byte(rand.IntN(256)), byte(2 + rand.IntN(250))}), port)
}

// ConnsResult is what a connect-latency run prints.
type ConnsResult struct {
	N     int   `json:"n"`
	P50Ns int64 `json:"p50Ns"`
	P99Ns int64 `json:"p99Ns"`
	AvgNs int64 `json:"avgNs"`
}

// Conns returns the command of a connect-latency run: n times connect() to
// addr and close it at once with a reset (SO_LINGER 0, so no TIME_WAIT
// piles up), timing each connect()+close().
func Conns(addr netip.AddrPort, n int) *exec.Cmd {
	return command("conns", addr.String(), strconv.Itoa(n))
}

// ParseConns decodes a connect-latency run's output.
func ParseConns(out []byte) (ConnsResult, error) {
	var r ConnsResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("conns output %q: %w", out, err)
	}
	return r, nil
}

func conns(addr, count string) error {
	n, err := strconv.Atoi(count)
	if err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	sa := &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	lat := make([]int64, n)
	var sum int64
	for i := range n {
		// Raw system calls: what is timed is the kernel's connect path
		// (where the BPF programs run), not Go's poller.
		start := time.Now()
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := syscall.Connect(fd, sa); err != nil {
			syscall.Close(fd)
			return fmt.Errorf("connect %d: %w", i, err)
		}
		_ = syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
		syscall.Close(fd)
		lat[i] = time.Since(start).Nanoseconds()
		sum += lat[i]
	}
	slices.Sort(lat)
	res := ConnsResult{N: n, P50Ns: lat[n/2], P99Ns: lat[n*99/100], AvgNs: sum / int64(n)}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// SendResult is what a send run prints.
type SendResult struct {
	Bytes int64 `json:"bytes"`
	Ns    int64 `json:"ns"` // from connect to the server's close
}

// Send returns the command of a throughput run: connect to addr, write n
// bytes, half-close, and wait until the server closes.
func Send(addr netip.AddrPort, n int64) *exec.Cmd {
	return command("send", addr.String(), strconv.FormatInt(n, 10))
}

// ParseSend decodes a send run's output.
func ParseSend(out []byte) (SendResult, error) {
	var r SendResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("send output %q: %w", out, err)
	}
	return r, nil
}

func send(addr, size string) error {
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	var sent int64
	for sent < n {
		m := min(int64(len(buf)), n-sent)
		w, err := c.Write(buf[:m])
		sent += int64(w)
		if err != nil {
			return err
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(SendResult{Bytes: sent, Ns: time.Since(start).Nanoseconds()})
}
