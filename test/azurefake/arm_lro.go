// SPDX-License-Identifier: Apache-2.0

// Long-running operations: the 202 answer with Location (and optionally
// Azure-AsyncOperation) and the polling endpoints behind those headers.

package azurefake

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// operation is a long-running operation. It finishes on the poll that
// finds remaining at zero: complete runs then, once.
type operation struct {
	id        string
	remaining int // polls still to answer "in progress"
	done      bool
	started   time.Time
	ended     time.Time
	complete  func(*state)
	// final is the answer of a finished Location poll; nil means 200 with
	// no body.
	final func(*state) (int, any)
}

// newOperation registers an operation; the caller holds st.mu.
func (st *state) newOperation(polls int, complete func(*state), final func(*state) (int, any)) *operation {
	op := &operation{id: newGUID(), remaining: polls, started: time.Now().UTC(), complete: complete, final: final}
	st.ops[op.id] = op
	return op
}

// poll counts one poll of the operation id and reports whether it is
// finished; the caller holds st.mu.
func (st *state) poll(id string) (op *operation, finished, ok bool) {
	op, ok = st.ops[id]
	if !ok {
		return nil, false, false
	}
	if !op.done {
		if op.remaining > 0 {
			op.remaining--
			return op, false, true
		}
		op.complete(st)
		op.done, op.ended = true, time.Now().UTC()
	}
	return op, true, true
}

// retryAfter is Options.RetryAfter in whole seconds, as ARM sends it.
func (s *Server) retryAfter() string {
	return strconv.Itoa(int((s.opts.RetryAfter + time.Second - 1) / time.Second))
}

// accepted answers 202 for a started operation: Location, Retry-After
// and, with Options.AsyncOperation, Azure-AsyncOperation pointing at the
// operation status of namespace in location.
func (s *Server) accepted(w http.ResponseWriter, r *http.Request, op *operation, loc, namespace, location string) {
	if s.opts.AsyncOperation {
		w.Header().Set("Azure-AsyncOperation", fmt.Sprintf("%s/subscriptions/%s/providers/%s/locations/%s/operationStatuses/%s?api-version=%s",
			armURL, s.opts.SubscriptionID, namespace, location, op.id, r.URL.Query().Get("api-version")))
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Retry-After", s.retryAfter())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}

// pollLocation answers a Location URL: 202 while running, then the
// operation's final answer.
func (s *Server) pollLocation(w http.ResponseWriter, r *http.Request, vars []string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r)
		return
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	op, finished, ok := s.state.poll(vars[len(vars)-1])
	switch {
	case !ok:
		armError(w, http.StatusNotFound, "OperationNotFound", "The operation '"+vars[len(vars)-1]+"' could not be found.")
	case !finished:
		w.Header().Set("Location", armURL+r.URL.RequestURI())
		w.Header().Set("Retry-After", s.retryAfter())
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
	case op.final != nil:
		code, body := op.final(s.state)
		writeJSON(w, code, body)
	default:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	}
}

// pollAsync answers an Azure-AsyncOperation URL: 200 with the status
// "InProgress", then "Succeeded".
func (s *Server) pollAsync(w http.ResponseWriter, r *http.Request, vars []string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r)
		return
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	id := vars[len(vars)-1]
	op, finished, ok := s.state.poll(id)
	if !ok {
		armError(w, http.StatusNotFound, "OperationNotFound", "The operation '"+id+"' could not be found.")
		return
	}
	body := map[string]any{
		"id":        r.URL.Path,
		"name":      op.id,
		"status":    "InProgress",
		"startTime": op.started.Format(time.RFC3339Nano),
	}
	if finished {
		body["status"] = "Succeeded"
		body["endTime"] = op.ended.Format(time.RFC3339Nano)
	} else {
		w.Header().Set("Retry-After", s.retryAfter())
	}
	writeJSON(w, http.StatusOK, body)
}
