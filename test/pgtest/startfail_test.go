// SPDX-License-Identifier: Apache-2.0

// A server that does not start: the error shows why, nothing is left.

package pgtest

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestStartFailureShowsLog(t *testing.T) {
	t.Parallel()
	shared.Server(t) // skips here too when the binaries are missing
	ctx, cancel := context.WithTimeout(t.Context(), DefaultStartTimeout)
	defer cancel()
	srv, err := New(ctx, Options{Settings: map[string]string{"shared_buffers": "lots"}})
	if err == nil {
		srv.Close()
		t.Fatal("New succeeded with shared_buffers = lots")
	}
	t.Log(err)
	for _, want := range []string{
		"pgtest: start postgres: postgres exited before accepting connections",
		`invalid value for parameter "shared_buffers": "lots"`,
	} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(err.Error()) {
			t.Errorf("error does not contain %q", want)
		}
	}
	m := regexp.MustCompile(`server log \((/\S+)/postgres\.log\)`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatal("error does not name the server log")
	}
	if _, err := os.Stat(m[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s after a failed start: %v, want not exist", m[1], err)
	}
	if left := processesIn(t, m[1]); len(left) > 0 {
		t.Errorf("processes left in %s: %v", m[1], left)
	}
}

// TestStartCanceled cancels New at points through initdb and startup. It
// is not parallel, so that any pgtest directory or process of this test
// binary besides the shared server's is a leak.
func TestStartCanceled(t *testing.T) {
	shared.Server(t)
	for _, d := range []time.Duration{time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, 800 * time.Millisecond, 1200 * time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), d)
			defer cancel()
			srv, err := New(ctx, Options{})
			if err == nil {
				t.Logf("started within %v", d)
				if err := srv.Close(); err != nil {
					t.Error(err)
				}
			} else {
				t.Log(err)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("New with a %v deadline = %v, want DeadlineExceeded", d, err)
				}
			}
			owned, _ := filepath.Glob(filepath.Join(os.TempDir(), "pgtest-*", ownerFile))
			for _, f := range owned {
				dir := filepath.Dir(f)
				if pid, ok := readPID(f); !ok || pid != os.Getpid() || dir == shared.Server(t).Dir() {
					continue
				}
				t.Errorf("left behind: %s, processes %v", dir, processesIn(t, dir))
			}
		})
	}
}

// TestPortCollision makes the first picked port busy, as when a parallel
// package takes it between the pick and the postmaster's bind: New must
// move on to another port.
func TestPortCollision(t *testing.T) {
	t.Parallel()
	shared.Server(t)
	busy, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	picks := 0
	pick := func() (int, error) {
		picks++
		if picks == 1 {
			return busyPort, nil
		}
		return freePort()
	}
	ctx, cancel := context.WithTimeout(t.Context(), DefaultStartTimeout)
	defer cancel()
	srv, err := newServer(ctx, Options{}, pick)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Port() == busyPort || picks != 2 {
		t.Errorf("port %d after %d picks, want another than %d after 2", srv.Port(), picks, busyPort)
	}
	log, err := os.ReadFile(srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "Address already in use") {
		t.Errorf("server log does not show the collision:\n%s", log)
	}
	if err := srv.checkTLS(ctx); err != nil {
		t.Error(err)
	}
}
