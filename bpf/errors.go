// SPDX-License-Identifier: Apache-2.0

// errors.go holds the sentinel errors callers branch on.

package bpf

import (
	"errors"
	"net"
)

var (
	// ErrNotFound is returned by Lookup and SetReady when the map holds no
	// entry for the key. It is also matched by errors.Is against
	// ebpf.ErrKeyNotExist, so both the caller's and the library's sentinel
	// work.
	ErrNotFound = errors.New("not found")

	// ErrNotSupported is wrapped by Probe and Load when the kernel lacks a
	// feature that interception needs; the error text names the feature.
	ErrNotSupported = errors.New("not supported by this kernel")

	// ErrClosed is returned by methods of a closed Objects.
	ErrClosed = net.ErrClosed
)
