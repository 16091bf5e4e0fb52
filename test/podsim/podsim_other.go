// SPDX-License-Identifier: Apache-2.0

//go:build !linux

// Stubs for systems without network namespaces and cgroup v2: New always
// fails with errors.ErrUnsupported.

package podsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
)

type sysState struct{}

// New fails: podsim needs Linux.
func New(ctx context.Context, opts Options) (*Workload, error) {
	return nil, fmt.Errorf("podsim: needs linux: %w", errors.ErrUnsupported)
}

// Start fails: podsim needs Linux.
func (w *Workload) Start(cmd *exec.Cmd) error { return fmt.Errorf("podsim: start: %w", net.ErrClosed) }

// Do fails: podsim needs Linux.
func (w *Workload) Do(fn func() error) error { return fmt.Errorf("podsim: do: %w", net.ErrClosed) }

// Pids fails: podsim needs Linux.
func (w *Workload) Pids() ([]int, error) { return nil, fmt.Errorf("podsim: pids: %w", net.ErrClosed) }

// Close does nothing.
func (w *Workload) Close() error { return nil }
