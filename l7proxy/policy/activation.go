// SPDX-License-Identifier: Apache-2.0

// The per-evaluation state: a normalised copy of the request that CEL reads
// through an Activation, without building a map per request.

package policy

import (
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// evalState is reused across evaluations (Bundle.states); one goroutine
// owns it between get and put.
type evalState struct {
	req Request
	// now is the CEL value of req.Now, made on first use.
	now ref.Val
	// cand and tmp are scratch bitsets for the index.
	cand, tmp bitset
}

// reset loads a normalised copy of req.
func (s *evalState) reset(req *Request) {
	s.req = *req
	normalize(&s.req)
	s.now = nil
}

// release drops references to the caller's data before the state is pooled.
func (s *evalState) release() {
	s.req = Request{}
	s.now = nil
}

// ResolveName implements interpreter.Activation.
func (s *evalState) ResolveName(name string) (any, bool) {
	switch name {
	case "arm":
		return &s.req.ARM, true
	case "request":
		return &s.req.HTTP, true
	case "target":
		return &s.req.Target, true
	case "identity":
		return &s.req.Identity, true
	case "workload":
		return &s.req.Workload, true
	case "sql":
		return &s.req.SQL, true
	case "now":
		if s.now == nil {
			t := s.req.Now
			if t.IsZero() {
				t = time.Now()
			}
			s.now = types.Timestamp{Time: t.UTC()}
		}
		return s.now, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (s *evalState) Parent() interpreter.Activation { return nil }
