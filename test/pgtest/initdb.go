// SPDX-License-Identifier: Apache-2.0

// Running the server binaries, and initdb.

package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// command prepares one of the server binaries to run as u in the
// server's directory with a small, fixed environment.
func (s *Server) command(u osUser, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.dir
	cmd.Env = []string{
		"PATH=" + s.binDir + ":/usr/bin:/bin",
		"HOME=" + s.dir,
		"LC_ALL=C",
		"LANG=C",
		"TZ=UTC",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	return cmd
}

// initdb creates the cluster with AdminRole as its superuser. Its output
// goes to initdb.log, and into the error if it fails.
func (s *Server) initdb(ctx context.Context, u osUser) error {
	logPath := filepath.Join(s.dir, initdbLog)
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	defer logf.Close()
	cmd := s.command(u, "initdb",
		"--pgdata="+s.DataDir(),
		"--username="+AdminRole,
		"--auth=trust", // pg_hba.conf is replaced by writeConfig
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProc(cmd)
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		// initdb runs postgres in bootstrap mode: stop the whole group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("initdb: %w", context.Cause(ctx))
	}
	if p.err != nil {
		return fmt.Errorf("initdb: %w; its output:\n%s", p.err, logTail(logPath, 8<<10))
	}
	return nil
}
