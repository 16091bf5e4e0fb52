// SPDX-License-Identifier: Apache-2.0

//go:build !linux

// Network namespaces exist only on Linux: stubs.

package workload

import (
	"context"
	"fmt"
	"net"
)

// ListenInNetns is only supported on Linux.
func ListenInNetns(context.Context, string, string, string) (net.Listener, error) {
	return nil, fmt.Errorf("workload: listen in netns: %w", errNotLinux)
}

// Listen is only supported on Linux.
func (w Workload) Listen(context.Context, string, string) (net.Listener, error) {
	return nil, fmt.Errorf("workload: listen: %w", errNotLinux)
}

// NetnsCookieOf is only supported on Linux.
func NetnsCookieOf(string) (uint64, error) {
	return 0, fmt.Errorf("workload: netns cookie: %w", errNotLinux)
}

// Dial is only supported on Linux.
func (w Workload) Dial(context.Context, string, string) (net.Conn, error) {
	return nil, fmt.Errorf("workload: dial: %w", errNotLinux)
}
