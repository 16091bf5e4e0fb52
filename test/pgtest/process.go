// SPDX-License-Identifier: Apache-2.0

// The postmaster process: start it tied to this process's life, stop it.

package pgtest

import (
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// proc is a started child process and its reaper.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed by run once the child has been reaped
	err  error         // Wait's result; written by run before done closes
}

// startProc starts cmd in its own process group so that it gets SIGINT
// (PostgreSQL's fast shutdown) if this process dies without stopping it,
// and reaps it in a goroutine that ends when the child does.
func startProc(cmd *exec.Cmd) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// The kernel clears Pdeathsig when credentials change; Go sets it after
	// switching to SysProcAttr.Credential, so it survives.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	// Only Close (or Pdeathsig) stops the server, not a ^C meant for us.
	cmd.SysProcAttr.Setpgid = true
	p := &proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go p.run(started)
	if err := <-started; err != nil {
		<-p.done
		return nil, err
	}
	return p, nil
}

// run starts and reaps the child. The kernel sends Pdeathsig when the
// thread that forked the child exits, not the process, so run holds its
// OS thread until the child is gone.
func (p *proc) run(started chan<- error) {
	defer close(p.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := p.cmd.Start(); err != nil {
		p.err = err
		started <- err
		return
	}
	started <- nil
	p.err = p.cmd.Wait()
}

// exited reports whether the child has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the child for a fast shutdown (SIGINT), waits up to timeout,
// then kills it. It returns once the child has been reaped.
func (p *proc) stop(timeout time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil && !p.exited() {
		return fmt.Errorf("signal postmaster: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("no fast shutdown within %v: killed postmaster %d", timeout, p.cmd.Process.Pid)
}
