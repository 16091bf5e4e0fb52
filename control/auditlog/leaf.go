// SPDX-License-Identifier: Apache-2.0

// Leaves: the typed, length-prefixed encoding of what the log commits to.

package auditlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// LeafVersion is the first byte of every leaf.
const LeafVersion = 0x01

// Leaf kinds, the second byte.
const (
	KindChunk  = 0x01
	KindRecord = 0x02
)

// ChunkLeaf is what the log commits to for one stored session chunk.
type ChunkLeaf struct {
	Node string
	Seq  uint64
	// SHA256 is the digest of the chunk's stored (compressed) bytes.
	SHA256 [32]byte
	// Sessions are the ids of the sessions with events in the chunk.
	Sessions []string
}

// Encode returns the leaf's bytes.
func (c ChunkLeaf) Encode() []byte {
	sessions := slices.Clone(c.Sessions)
	slices.Sort(sessions)
	sessions = slices.Compact(sessions)
	b := []byte{LeafVersion, KindChunk}
	b = appendString(b, c.Node)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = appendString(b, string(c.SHA256[:]))
	b = binary.BigEndian.AppendUint32(b, uint32(len(sessions)))
	for _, s := range sessions {
		b = appendString(b, s)
	}
	return b
}

// RecordLeaf is what the log commits to for one audit record.
type RecordLeaf struct {
	// ID is the record's number in the store, from 1.
	ID     uint64
	Time   time.Time
	Actor  string
	Action string
	Object string
	Detail string
}

// Encode returns the leaf's bytes. Time is kept to the nanosecond.
func (r RecordLeaf) Encode() []byte {
	b := []byte{LeafVersion, KindRecord}
	b = binary.BigEndian.AppendUint64(b, r.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixNano()))
	for _, s := range []string{r.Actor, r.Action, r.Object, r.Detail} {
		b = appendString(b, s)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// ErrLeaf: bytes that are not a leaf of this version.
var ErrLeaf = errors.New("auditlog: malformed leaf")

// DecodeLeaf parses a leaf into a ChunkLeaf or a RecordLeaf (by value).
func DecodeLeaf(b []byte) (any, error) {
	d := decoder{b: b}
	if v := d.byte(); v != LeafVersion {
		return nil, fmt.Errorf("%w: version %d", ErrLeaf, v)
	}
	var out any
	switch k := d.byte(); k {
	case KindChunk:
		c := ChunkLeaf{Node: d.string()}
		c.Seq = d.uint64()
		sum := d.string()
		if d.err == nil && len(sum) != 32 {
			return nil, fmt.Errorf("%w: chunk sha256 of %d bytes", ErrLeaf, len(sum))
		}
		copy(c.SHA256[:], sum)
		n := d.uint32()
		for i := uint32(0); i < n && d.err == nil; i++ {
			c.Sessions = append(c.Sessions, d.string())
		}
		out = c
	case KindRecord:
		r := RecordLeaf{ID: d.uint64()}
		r.Time = time.Unix(0, int64(d.uint64()))
		r.Actor, r.Action, r.Object, r.Detail = d.string(), d.string(), d.string(), d.string()
		out = r
	default:
		return nil, fmt.Errorf("%w: kind %d", ErrLeaf, k)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last field", ErrLeaf, len(d.b))
	}
	return out, nil
}

// decoder reads fields, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)) < n {
		d.err = fmt.Errorf("%w: truncated", ErrLeaf)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uint32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) uint64() uint64 {
	if v := d.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) string() string { return string(d.take(uint64(d.uint32()))) }
