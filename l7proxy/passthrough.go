// SPDX-License-Identifier: Apache-2.0

// Passthrough: relaying an uninspected connection to its original
// destination without copying through user space.

package l7proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// PassStats counts what a passthrough relayed.
type PassStats struct {
	FromClient int64 // bytes client → upstream
	ToClient   int64 // bytes upstream → client
}

// Passthrough relays bytes between client and upstream until both
// directions are done, then closes both. Each direction is an io.Copy
// between *net.TCPConn values, which Go turns into splice(2): the bytes
// never enter user space. When one side ends its stream, the other side's
// write half is closed (TCP half-close), so protocols that rely on it work.
// When ctx is done both connections are closed at once.
//
// Passthrough owns client and upstream: it closes them.
func Passthrough(ctx context.Context, client, upstream *net.TCPConn) (PassStats, error) {
	abort := func() {
		_ = client.Close()
		_ = upstream.Close()
	}
	stop := context.AfterFunc(ctx, abort)
	defer stop()

	var (
		wg      sync.WaitGroup
		up      = halfCopier{dst: upstream, src: client}
		down    = halfCopier{dst: client, src: upstream}
		upErr   error
		downErr error
	)
	// A direction that fails (a reset, not an end of stream) closes both
	// connections, so that the other direction does not wait forever.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if upErr = up.copy(); upErr != nil {
			abort()
		}
	}()
	if downErr = down.copy(); downErr != nil {
		abort()
	}
	wg.Wait()
	abort()

	st := PassStats{FromClient: up.n, ToClient: down.n}
	if ctx.Err() != nil {
		return st, ctx.Err()
	}
	if err := errors.Join(upErr, downErr); err != nil {
		return st, fmt.Errorf("l7proxy: passthrough: %w", err)
	}
	return st, nil
}

// halfCopier copies one direction of a passthrough. Its own type, so that
// stack traces say which direction a goroutine serves.
type halfCopier struct {
	dst, src *net.TCPConn
	n        int64 // owned by copy
}

// copy splices src into dst until src's stream ends, then half-closes dst.
// A connection reset after the other direction finished is not an error.
func (h *halfCopier) copy() error {
	n, err := io.Copy(h.dst, h.src) // *TCPConn.ReadFrom(*TCPConn): splice
	h.n = n
	if cerr := h.dst.CloseWrite(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	if errors.Is(err, net.ErrClosed) {
		return nil // the other direction or ctx closed the connection
	}
	return err
}
