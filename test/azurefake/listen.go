// SPDX-License-Identifier: Apache-2.0

// Listening on a random loopback address (127.a.b.c:443) or an explicit one.

package azurefake

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// listenAttempts bounds the search for a free random loopback address.
const listenAttempts = 32

// listen listens on addr, or when addr is empty on port 443 of a random
// address in 127.0.0.0/8 other than 127.0.0.1, trying another address
// while the chosen one is in use.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	if addr != "" {
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		return ln, nil
	}
	var err error
	for range listenAttempts {
		var ln net.Listener
		ap := netip.AddrPortFrom(randomLoopback(), 443)
		ln, err = lc.Listen(ctx, "tcp", ap.String())
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return nil, fmt.Errorf("listen: no free loopback address after %d attempts: %w", listenAttempts, err)
}

// randomLoopback returns 127.a.b.c with c neither 0 nor 255, never
// 127.0.0.1.
func randomLoopback() netip.Addr {
	for {
		var b [3]byte
		_, _ = rand.Read(b[:])
		if b[2] == 0 || b[2] == 255 || (b[0] == 0 && b[1] == 0 && b[2] == 1) {
			continue
		}
		return netip.AddrFrom4([4]byte{127, b[0], b[1], b[2]})
	}
}
