// SPDX-License-Identifier: Apache-2.0

// Removing directories left behind by test binaries that died before
// closing their servers.

package pgtest

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// sweepStale removes pgtest directories under tmp whose owning process
// and postmaster have both exited. A crashed test binary leaves them; its
// postmaster stops by itself (Pdeathsig). Best effort: anything unclear
// (no owner file yet, a live or unknown pid) is left alone.
func sweepStale(tmp string) {
	dirs, err := filepath.Glob(filepath.Join(tmp, "pgtest-*"))
	if err != nil {
		return
	}
	for _, d := range dirs {
		owner, ok := readPID(filepath.Join(d, ownerFile))
		if !ok || owner == os.Getpid() || alive(owner) {
			continue
		}
		if pm, ok := readPID(filepath.Join(d, dataSubdir, "postmaster.pid")); ok && alive(pm) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

// readPID reads the pid on the first line of path.
func readPID(path string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	// Without its newline the line may still be being written.
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// alive reports whether a process with pid exists (as far as we can
// tell: anything but ESRCH counts as alive).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}
