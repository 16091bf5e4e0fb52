// SPDX-License-Identifier: Apache-2.0

// A small, real SessionService for the tests: chunks kept in memory (which
// stands for "durable" and outlives server restarts), idempotent by
// seq+sha256, acked after they are stored.

package upload_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// store is the control plane's durable state; it survives restarts.
type store struct {
	mu         sync.Mutex
	chunks     []*interlockv1.UploadChunk // chunks[i].Seq == i+1
	events     []*interlockv1.SessionEvent
	duplicates int
	changed    chan struct{} // closed and replaced on every new chunk
	// crashAt makes Upload fail once, right after storing a chunk and
	// before acking it, when the store reaches that many events (0:
	// never); crashed is closed then.
	crashAt int
	crashed chan struct{}
}

func newStore() *store { return &store{changed: make(chan struct{}), crashed: make(chan struct{})} }

// put stores c, or checks it is a duplicate of what is stored; it returns
// the highest stored seq.
func (s *store) put(c *interlockv1.UploadChunk) (uint64, error) {
	if sum := sha256.Sum256(c.GetZstd()); string(sum[:]) != string(c.GetSha256()) {
		return 0, status.Errorf(codes.InvalidArgument, "chunk %d: sha256 mismatch", c.GetSeq())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	high := uint64(len(s.chunks))
	switch {
	case c.GetSeq() == 0:
		return 0, status.Error(codes.InvalidArgument, "chunk seq 0")
	case c.GetSeq() <= high:
		if string(s.chunks[c.GetSeq()-1].GetSha256()) != string(c.GetSha256()) {
			return 0, status.Errorf(codes.AlreadyExists, "chunk %d: conflicting bytes", c.GetSeq())
		}
		s.duplicates++
		return high, nil
	case c.GetSeq() > high+1:
		return 0, status.Errorf(codes.FailedPrecondition, "chunk %d after %d: gap", c.GetSeq(), high)
	}
	b, err := spool.DecodeChunk(c)
	if err != nil {
		return 0, status.Error(codes.InvalidArgument, err.Error())
	}
	s.chunks = append(s.chunks, c)
	s.events = append(s.events, b.Events...)
	close(s.changed)
	s.changed = make(chan struct{})
	return c.GetSeq(), nil
}

func (s *store) snapshot() (events []*interlockv1.SessionEvent, chunks, dups int, changed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events, len(s.chunks), s.duplicates, s.changed
}

// crashNow reports, once, that the store reached crashAt.
func (s *store) crashNow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.crashAt == 0 || len(s.events) < s.crashAt {
		return false
	}
	s.crashAt = 0
	close(s.crashed)
	return true
}

// waitEvents waits until the store holds at least n events.
func (s *store) waitEvents(ctx context.Context, n int) error {
	for {
		evs, _, _, changed := s.snapshot()
		if len(evs) >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("store has %d events, want %d: %w", len(evs), n, ctx.Err())
		}
	}
}

// sessionServer serves one store.
type sessionServer struct {
	interlockv1.UnimplementedSessionServiceServer
	st *store
}

func (s *sessionServer) Resume(context.Context, *interlockv1.ResumeRequest) (*interlockv1.ResumeResponse, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return &interlockv1.ResumeResponse{Seq: uint64(len(s.st.chunks))}, nil
}

func (s *sessionServer) Upload(stream interlockv1.SessionService_UploadServer) error {
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		high, err := s.st.put(c)
		if err != nil {
			return err
		}
		if s.st.crashNow() {
			return status.Error(codes.Unavailable, "crashed after storing, before acking")
		}
		if err := stream.Send(&interlockv1.UploadAck{Seq: high}); err != nil {
			return err
		}
	}
}

// server is a restartable gRPC server on one 127.0.0.1 address.
type server struct {
	t    testing.TB
	st   *store
	addr string
	mu   sync.Mutex
	srv  *grpc.Server
	wg   sync.WaitGroup
}

func startServer(t testing.TB, st *store) *server {
	s := &server{t: t, st: st, addr: "127.0.0.1:0"}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	var lis net.Listener
	var err error
	for range 100 { // the port of a just-stopped server may linger briefly
		if lis, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", s.addr, err)
	}
	s.addr = lis.Addr().String()
	srv := grpc.NewServer()
	interlockv1.RegisterSessionServiceServer(srv, &sessionServer{st: s.st})
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	s.wg.Go(func() { srv.Serve(lis) })
}

// stop kills the server: listener and every stream, at once.
func (s *server) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
	s.wg.Wait()
}
