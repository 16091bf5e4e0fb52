// SPDX-License-Identifier: Apache-2.0

// Exec: running a command as a new intercepted VM workload.

package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
)

// execCgroupParent is the directory under the cgroup2 mount that holds the
// cgroups of commands started by Exec.
const execCgroupParent = "interlock-exec"

// CAEnv lists the environment variables through which common runtimes
// find a CA bundle: Go and OpenSSL (SSL_CERT_FILE), Python requests,
// Node.js, curl, and libpq.
var CAEnv = []string{"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE", "PGSSLROOTCERT"}

// Exec runs cmd as a new intercepted workload called name: it makes a
// cgroup under <cgroup2>/interlock-exec/, registers it with the node agent
// behind c, starts cmd inside it from its first instruction (clone3 into
// the cgroup), points the CA variables of CAEnv at the node's CA bundle
// when the node has one, waits for cmd, and then kills whatever cmd left
// running in the cgroup, unregisters it and removes it. When ctx is done,
// cmd gets SIGTERM, then SIGKILL after grace.
//
// It returns cmd.Wait's error: an *exec.ExitError carries the exit status.
func Exec(ctx context.Context, c *Client, name string, cmd *exec.Cmd, grace time.Duration) (err error) {
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	root, err := cgroups.Mount()
	if err != nil {
		return err
	}
	parent := filepath.Join(root, execCgroupParent)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("exec: make cgroup parent: %w", err)
	}
	dir := filepath.Join(parent, fmt.Sprintf("%s-%08x", name, rand.Uint32()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("exec: make cgroup: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cerr := cgroups.Kill(cctx, dir)
		if rerr := cgroups.Remove(cctx, dir); cerr == nil {
			cerr = rerr
		}
		// The parent is shared with other Exec calls: remove it only if
		// empty; EBUSY and ENOTEMPTY mean someone else uses it.
		_ = syscall.Rmdir(parent)
		if err == nil && cerr != nil {
			err = fmt.Errorf("exec: clean up cgroup: %w", cerr)
		}
	}()
	id, err := c.AddWorkload(ctx, name, dir)
	if err != nil {
		return fmt.Errorf("exec: register workload: %w", err)
	}
	defer func() {
		// The node agent may be gone by now; the cgroup goes anyway.
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if rerr := c.RemoveWorkload(rctx, id); rerr != nil && err == nil {
			err = fmt.Errorf("exec: unregister workload: %w", rerr)
		}
	}()

	fd, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("exec: open cgroup: %w", err)
	}
	defer fd.Close()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = int(fd.Fd())
	if st.CABundle != "" {
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		for _, k := range CAEnv {
			cmd.Env = append(cmd.Env, k+"="+st.CABundle)
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		return errors.Join(<-done, ctx.Err())
	}
}
