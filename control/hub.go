// SPDX-License-Identifier: Apache-2.0

// Change notification for watch streams.

package control

import (
	"sync"

	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// signal wakes every waiter when something changed. A waiter takes the
// channel before reading the state, so no change goes unnoticed.
type signal struct {
	mu sync.Mutex
	ch chan struct{} // closed and replaced by notify
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

// changed returns a channel closed at the next notify.
func (s *signal) changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// approvalHub hands every approval change to every watcher.
type approvalHub struct {
	size int
	mu   sync.Mutex
	subs map[*approvalSub]struct{} // guarded by mu
}

// approvalSub is one watcher's queue. lagged is closed when the watcher
// fell more than the hub's size behind and was dropped.
type approvalSub struct {
	node   string // "" sees all, otherwise only this node's approvals
	ch     chan *interlockv1.Approval
	lagged chan struct{}
}

func newApprovalHub(size int) *approvalHub {
	return &approvalHub{size: size, subs: map[*approvalSub]struct{}{}}
}

// subscribe registers a watcher; the caller must unsubscribe it.
func (h *approvalHub) subscribe(node string) *approvalSub {
	sub := &approvalSub{node: node, ch: make(chan *interlockv1.Approval, h.size), lagged: make(chan struct{})}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

func (h *approvalHub) unsubscribe(sub *approvalSub) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// publish queues a copy of a for every watcher that may see it, without
// blocking: a watcher whose queue is full is dropped.
func (h *approvalHub) publish(a *interlockv1.Approval) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if sub.node != "" && sub.node != a.GetNode() {
			continue
		}
		select {
		case sub.ch <- proto.Clone(a).(*interlockv1.Approval):
		default:
			delete(h.subs, sub)
			close(sub.lagged)
		}
	}
}
