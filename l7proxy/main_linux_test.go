// SPDX-License-Identifier: Apache-2.0

// TestMain and the child-process modes of the test binary: the "agent"
// that runs inside an intercepted workload and the "server" at the
// original destination, each a process of its own so that the proxy's
// /proc/self/io counts only what the proxy itself copies.

package l7proxy

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"testing"
)

const childEnv = "L7PROXY_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "agent":
		if err := childAgent(os.Args[len(os.Args)-2], os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			os.Exit(1)
		}
	case "server":
		if err := childServer(os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

// agentResult is what the agent child prints.
type agentResult struct {
	Peer   string `json:"peer"`   // getpeername of its connection
	Sent   int64  `json:"sent"`   // bytes written
	Echoed int64  `json:"echoed"` // bytes read back
	Match  bool   `json:"match"`  // what came back is what was sent
}

// payload returns a deterministic stream of n pseudo-random bytes.
func payload(n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{1, 2, 3}), n)
}

// childAgent dials addr as an unmodified program would, sends size bytes,
// half-closes, reads the echo and reports.
func childAgent(addr, size string) error {
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return err
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	res := agentResult{Peer: c.RemoteAddr().String()}
	sent := sha256.New()
	errc := make(chan error, 1)
	go func() {
		var err error
		res.Sent, err = io.Copy(io.MultiWriter(c, sent), payload(n))
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		errc <- err
	}()
	got := sha256.New()
	res.Echoed, err = io.Copy(got, c)
	if err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	res.Match = hex.EncodeToString(sent.Sum(nil)) == hex.EncodeToString(got.Sum(nil))
	return json.NewEncoder(os.Stdout).Encode(res)
}

// childServer listens on addr, says "ready", echoes every connection, and
// when its stdin closes prints how many connections it accepted.
func childServer(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	accepted := make(chan struct{}, 1024)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	ln.Close()
	fmt.Println(len(accepted))
	return nil
}
