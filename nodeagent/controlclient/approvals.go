// SPDX-License-Identifier: Apache-2.0

// Approvals: file approval requests and wait for their outcome.

package controlclient

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// ApprovalOptions configure Approvals.
type ApprovalOptions struct {
	// Logger receives stream failures; nil discards them.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reopening the watch
	// stream (defaults DefaultMinBackoff, DefaultMaxBackoff).
	MinBackoff, MaxBackoff time.Duration
	// PollEvery is how often Wait asks for the approval itself, in case
	// the watch stream is down or fell behind (default 5 s).
	PollEvery time.Duration
}

// Approvals is the node's approval client: Request files a request, Wait
// returns its outcome as soon as the control plane's watch stream (run by
// Run) delivers it. Safe for concurrent use; Run must run at most once at a
// time.
type Approvals struct {
	client interlockv1.ApprovalServiceClient
	opts   ApprovalOptions
	log    *slog.Logger

	mu      sync.Mutex
	waiters map[string]map[chan *interlockv1.Approval]struct{} // by approval id; guarded by mu
}

// NewApprovals returns an approval client on cc (a Client's Conn).
func NewApprovals(cc grpc.ClientConnInterface, opts ApprovalOptions) *Approvals {
	if opts.PollEvery <= 0 {
		opts.PollEvery = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Approvals{
		client:  interlockv1.NewApprovalServiceClient(cc),
		opts:    opts,
		log:     log,
		waiters: map[string]map[chan *interlockv1.Approval]struct{}{},
	}
}

// Request files an approval request. The control plane returns the open
// request, or a live grant, when the same identity already asked for the
// same fingerprint: check Decided and Granted before waiting. It fails at
// once when the control plane is unreachable.
func (a *Approvals) Request(ctx context.Context, req *interlockv1.ApprovalRequestRequest) (*interlockv1.Approval, error) {
	ap, err := a.client.Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("controlclient: approval request: %w", err)
	}
	return ap, nil
}

// Decided reports whether an approval is no longer pending.
func Decided(ap *interlockv1.Approval) bool {
	return ap.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_PENDING &&
		ap.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_UNSPECIFIED
}

// Granted reports whether ap lets its request proceed at now: it is
// approved, and now is before its grant ends — or it is the approval the
// caller waited for, which covers one request even with no grant period
// (pass waited true).
func Granted(ap *interlockv1.Approval, now time.Time, waited bool) bool {
	if ap.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_APPROVED {
		return false
	}
	return waited || (ap.GetGrantUntil() != nil && now.Before(ap.GetGrantUntil().AsTime()))
}

// Wait returns approval id once it is decided (approved, denied or
// expired), as soon as the watch stream or a poll says so, or ctx's error.
// Bound ctx by how long the request may be held.
func (a *Approvals) Wait(ctx context.Context, id string) (*interlockv1.Approval, error) {
	ch := a.subscribe(id)
	defer a.unsubscribe(id, ch)
	t := time.NewTicker(a.opts.PollEvery)
	defer t.Stop()
	// Ask once now: the decision may have come before we subscribed.
	poll := func() (*interlockv1.Approval, bool) {
		ap, err := a.client.Get(ctx, &interlockv1.GetApprovalRequest{Id: id})
		if err != nil {
			if ctx.Err() == nil {
				a.log.Debug("approval poll failed", "id", id, "err", err)
			}
			return nil, false
		}
		return ap, Decided(ap)
	}
	if ap, ok := poll(); ok {
		return ap, nil
	}
	for {
		select {
		case ap := <-ch:
			if Decided(ap) {
				return ap, nil
			}
		case <-t.C:
			if ap, ok := poll(); ok {
				return ap, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("controlclient: wait for approval %s: %w", id, ctx.Err())
		}
	}
}

func (a *Approvals) subscribe(id string) chan *interlockv1.Approval {
	ch := make(chan *interlockv1.Approval, 1)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiters[id] == nil {
		a.waiters[id] = map[chan *interlockv1.Approval]struct{}{}
	}
	a.waiters[id][ch] = struct{}{}
	return ch
}

func (a *Approvals) unsubscribe(id string, ch chan *interlockv1.Approval) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.waiters[id], ch)
	if len(a.waiters[id]) == 0 {
		delete(a.waiters, id)
	}
}

// deliver hands a decided approval to its waiters without blocking: each
// waiter's buffer of one holds the outcome it needs.
func (a *Approvals) deliver(ap *interlockv1.Approval) {
	if !Decided(ap) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for ch := range a.waiters[ap.GetId()] {
		select {
		case ch <- proto.Clone(ap).(*interlockv1.Approval):
		default:
		}
	}
}

// Run keeps a watch stream on the node's approvals open until ctx ends,
// reopening it with backoff, and returns ctx's error. Each new stream
// starts with the node's recent approvals, so decisions made while it was
// down still reach their waiters.
func (a *Approvals) Run(ctx context.Context) error {
	return keepOpen(ctx, a.log, "approval watch", a.opts.MinBackoff, a.opts.MaxBackoff, a.watch, nil)
}

func (a *Approvals) watch(ctx context.Context) (got bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := a.client.Watch(ctx, &interlockv1.WatchApprovalsRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return false, fmt.Errorf("controlclient: approval watch: %w", err)
	}
	return receive(stream, "approval watch", a.deliver)
}
