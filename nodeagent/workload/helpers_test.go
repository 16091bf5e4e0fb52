// SPDX-License-Identifier: Apache-2.0

// Test helpers: a PodSource over a list the test edits, and loggers.

package workload

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// staticPods is a PodSource over a list the test edits. Every call to Pods
// is signalled on calls.
type staticPods struct {
	mu    sync.Mutex
	pods  []Pod
	err   error
	calls chan struct{}
}

func newStaticPods(pods ...Pod) *staticPods {
	return &staticPods{pods: pods, calls: make(chan struct{}, 1000)}
}

func (s *staticPods) Pods(context.Context) ([]Pod, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.calls <- struct{}{}:
	default:
	}
	if s.err != nil {
		return nil, s.err
	}
	return slices.Clone(s.pods), nil
}

func (s *staticPods) set(err error, pods ...Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods, s.err = pods, err
}

// testLogger returns a logger that writes to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// slogTo returns a debug-level text logger writing to w.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
