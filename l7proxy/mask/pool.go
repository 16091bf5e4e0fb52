// SPDX-License-Identifier: Apache-2.0

// Pool: the reusable working memory of transforms.

package mask

import "sync"

// Pool keeps the buffers of finished transforms for later ones. It is safe
// for concurrent use; create one per process and give it to every Masker
// through Options.Pool.
type Pool struct{ p sync.Pool }

// NewPool returns an empty Pool.
func NewPool() *Pool { return &Pool{} }

// inBufSize is the size of the JSON read buffer.
const inBufSize = 32 << 10

// scratch is the working memory of one transform.
type scratch struct {
	in     []byte
	out    []byte
	stack  []frame
	states []pstate
	raw    []byte
	dec    []byte
	key    []byte
	num    []byte
	counts []uint32
	str    stream
}

func (p *Pool) get(nattrs int) *scratch {
	var s *scratch
	if p != nil {
		s, _ = p.p.Get().(*scratch)
	}
	if s == nil {
		s = &scratch{}
	}
	if cap(s.counts) < nattrs {
		s.counts = make([]uint32, nattrs)
	}
	s.counts = s.counts[:nattrs]
	clear(s.counts)
	return s
}

// put returns s for reuse, dropping what refers to a caller's data.
func (p *Pool) put(s *scratch) {
	if p == nil {
		return
	}
	s.str.set, s.str.out, s.str.counts, s.str.cur.set = nil, nil, nil, nil
	clear(s.stack[:cap(s.stack)])
	p.p.Put(s)
}
