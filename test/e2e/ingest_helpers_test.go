// SPDX-License-Identifier: Apache-2.0

// Recording on a node and reading it back from the control plane.

package e2e_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/l7proxy/record"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func hashEvent(ev *interlockv1.SessionEvent) [32]byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return sha256.Sum256(b)
}

// durableSink passes appends to a sink and tells onDurable each event's
// hash once its Append returned (the event is on disk).
type durableSink struct {
	next      record.Sink
	onDurable func([]*interlockv1.SessionEvent)
}

func (s durableSink) Append(ctx context.Context, evs []*interlockv1.SessionEvent) error {
	if err := s.next.Append(ctx, evs); err != nil {
		return err
	}
	s.onDurable(evs)
	return nil
}

// produce records sessions of perSession events (open, ARM requests and
// responses, close) from workers goroutines; seed varies the bodies.
func produce(ctx context.Context, rec *record.Recorder, node string, seed uint64, workers, sessions, perSession int) error {
	next := make(chan int, sessions)
	for i := range sessions {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for range next {
				if err := session(ctx, rec, r, node, perSession); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func session(ctx context.Context, rec *record.Recorder, r *rand.Rand, node string, perSession int) error {
	s, err := rec.Open(ctx, &interlockv1.SessionOpen{Node: node, Target: "arm", Protocol: interlockv1.Protocol_PROTOCOL_HTTPS,
		Workload: &interlockv1.Workload{Name: "agent"}, ServerName: "management.azure.com"})
	if err != nil {
		return err
	}
	for i := 2; i < perSession; i += 2 {
		x := s.NewExchange()
		body := make([]byte, 200+r.IntN(600))
		for j := range body {
			body[j] = `abcdefghij{}":,0123456789`[r.IntN(25)]
		}
		if err := s.Request(ctx, &interlockv1.HTTPRequest{ExchangeId: x, Method: "GET", Host: "management.azure.com",
			Path: fmt.Sprintf("/subscriptions/s/resourceGroups/rg%d", x), Query: "api-version=2025-04-01",
			Azure: &interlockv1.AzureOperation{Operation: "Microsoft.Resources/subscriptions/resourceGroups/read"}}); err != nil {
			return err
		}
		if i+1 < perSession {
			if err := s.Response(&interlockv1.HTTPResponse{ExchangeId: x, Status: 200, Body: &interlockv1.Payload{Masked: body, Size: uint64(len(body))}}); err != nil {
				return err
			}
		}
	}
	return s.Close(ctx, &interlockv1.SessionClose{Reason: "client closed"})
}

// readNode reads every session of node back through AuditService, each in
// seq order, and returns their events by session.
func readNode(ctx context.Context, cc grpc.ClientConnInterface, node string) (map[string][]*interlockv1.SessionEvent, error) {
	audit := interlockv1.NewAuditServiceClient(cc)
	out := map[string][]*interlockv1.SessionEvent{}
	tok := ""
	for {
		resp, err := audit.ListSessions(ctx, &interlockv1.ListSessionsRequest{Filter: &interlockv1.SessionFilter{Node: node}, PageSize: 1000, PageToken: tok})
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		for _, s := range resp.GetSessions() {
			stream, err := audit.ReadSession(ctx, &interlockv1.ReadSessionRequest{SessionId: s.GetSessionId()})
			if err != nil {
				return nil, err
			}
			for {
				ev, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return nil, fmt.Errorf("read session %s: %w", s.GetSessionId(), err)
				}
				out[s.GetSessionId()] = append(out[s.GetSessionId()], ev)
			}
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			return out, nil
		}
	}
}

// checkArrived compares what the control plane holds with the hashes of
// the events that were durable on the node: each arrived exactly once,
// and each session's events are seq 1, 2, 3... in order. maybeExtra
// allows events the node wrote but could not confirm (a kill) at the end
// of a session.
func checkArrived(t testing.TB, got map[string][]*interlockv1.SessionEvent, durable map[[32]byte]bool, maybeExtra bool) int {
	t.Helper()
	seen := map[[32]byte]bool{}
	total := 0
	for id, evs := range got {
		tail := false
		for i, ev := range evs {
			if ev.GetSeq() != uint64(i+1) {
				t.Fatalf("session %s: event %d has seq %d: out of order, lost or repeated", id, i, ev.GetSeq())
			}
			h := hashEvent(ev)
			if seen[h] {
				t.Fatalf("session %s: event %d arrived twice", id, ev.GetSeq())
			}
			seen[h] = true
			if !durable[h] {
				if !maybeExtra {
					t.Fatalf("session %s: event %d arrived but was never recorded", id, ev.GetSeq())
				}
				tail = true
			} else if tail {
				t.Fatalf("session %s: an unconfirmed event precedes confirmed event %d", id, ev.GetSeq())
			}
			total++
		}
	}
	for h := range durable {
		if !seen[h] {
			t.Fatalf("%d events arrived; a durable event is missing (of %d)", total, len(durable))
		}
	}
	return total
}
