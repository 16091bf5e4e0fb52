// SPDX-License-Identifier: Apache-2.0

// Verify: one pass over the archive collecting digests, proofs and event
// digests, then the checks, each reported against its control.

package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/control/merkle"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Options configure Verify.
type Options struct {
	// Key is the log's verifier key ("<origin>+<hash>+<base64>", as
	// `interlock audit checkpoint` prints and log.pub holds). Empty takes
	// the bundle's own log.pub, which proves only self-consistency.
	Key    string
	Limits Limits
}

// fileSeen is an entry's size and digest.
type fileSeen struct {
	size int64
	sum  [32]byte
}

// chunkSeen is what reading a chunk showed.
type chunkSeen struct {
	sum      [32]byte
	sessions []string
	// bad is why the chunk did not decode, "" when it did.
	bad string
}

type eventKey struct {
	session string
	seq     uint64
}

// eventSeen is one event decoded from a chunk.
type eventSeen struct {
	digest [32]byte
	chunk  string
}

// jsonEvent is one line of an events.jsonl file.
type jsonEvent struct {
	session string
	seq     uint64
	digest  [32]byte
}

// sessionStats counts what AC-3 reports about a session.
type sessionStats struct {
	requests  int
	decisions map[interlockv1.Action]int
	decided   map[uint64]bool
	asked     map[uint64]bool
}

// auditSeen is one audit record line.
type auditSeen struct {
	line  AuditLine
	leaf  merkle.Hash
	proof []merkle.Hash
}

// verifier holds what one pass collected.
type verifier struct {
	rep     *Report
	keyText string
	lim     Limits
	dec     *zstd.Decoder
	order   []string
	files   map[string]fileSeen
	// small holds the fixed files and summaries, read whole.
	small     map[string][]byte
	chunks    map[string]*chunkSeen
	proofs    map[string]ChunkProof
	events    map[eventKey]eventSeen
	stats     map[string]*sessionStats
	jsonl     map[string][]jsonEvent
	audit     []auditSeen
	auditSeen bool
}

// Verify checks the bundle read from r and returns what it found. The
// bundle verified when the report has no problems (Report.OK).
func Verify(ctx context.Context, r io.Reader, opts Options) *Report {
	v := &verifier{
		rep: &Report{}, lim: opts.Limits.withDefaults(), keyText: opts.Key,
		files: map[string]fileSeen{}, small: map[string][]byte{}, chunks: map[string]*chunkSeen{},
		proofs: map[string]ChunkProof{}, events: map[eventKey]eventSeen{}, stats: map[string]*sessionStats{},
		jsonl: map[string][]jsonEvent{},
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(v.lim.MaxDecoded), zstd.WithDecoderMaxWindow(min(v.lim.MaxDecoded, zstd.MaxWindowSize)), zstd.WithDecoderConcurrency(1))
	if err != nil {
		v.rep.Fail("bundle", "zstd: %v", err)
		return v.rep
	}
	defer dec.Close()
	v.dec = dec
	err = readArchive(ctx, r, v.lim, v.rep, func(e *entry) error {
		if err := v.entry(e); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, e.r); err != nil {
			return err
		}
		v.order = append(v.order, e.name)
		var sum [32]byte
		e.h.Sum(sum[:0])
		v.files[e.name] = fileSeen{size: e.size, sum: sum}
		return nil
	})
	switch {
	case errors.Is(err, errStop):
		return v.rep
	case err != nil:
		v.rep.Fail("bundle", "read: %v", err)
		return v.rep
	}
	v.check()
	return v.rep
}

// entry takes in one file by its kind.
func (v *verifier) entry(e *entry) error {
	switch name := e.name; {
	case name == CheckpointFile || name == KeyFile || name == ManifestSig || name == ReadmeFile ||
		name == ControlsFile || (strings.HasPrefix(name, "sessions/") && strings.HasSuffix(name, "/summary.json")):
		b, err := e.readAll(smallFile)
		if err != nil {
			return v.tooBig(err)
		}
		v.small[name] = b
	case name == ManifestFile:
		b, err := e.readAll(v.lim.MaxEntry)
		if err != nil {
			return v.tooBig(err)
		}
		v.small[name] = b
	case strings.HasPrefix(name, "chunks/") && strings.HasSuffix(name, ".zst"):
		b, err := e.readAll(v.lim.MaxEntry)
		if err != nil {
			return v.tooBig(err)
		}
		v.chunk(name, b)
	case strings.HasPrefix(name, "proofs/chunks/") && strings.HasSuffix(name, ".json"):
		b, err := e.readAll(smallFile)
		if err != nil {
			return v.tooBig(err)
		}
		var p ChunkProof
		if err := json.Unmarshal(b, &p); err != nil {
			v.rep.Fail("AU-10", "proof %s does not parse: %v", name, err)
			return nil
		}
		v.proofs[name] = p
	case strings.HasPrefix(name, "sessions/") && strings.HasSuffix(name, "/events.jsonl"):
		return v.eventsFile(e)
	case name == AuditFile:
		v.auditSeen = true
		return v.auditFile(e)
	default:
		v.rep.Fail("AU-9", "unexpected file %s", name)
	}
	return nil
}

// tooBig reports a file over its kind's limit, passing I/O errors on.
func (v *verifier) tooBig(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	v.rep.Fail("AU-9", "%v", err)
	return errStop
}

// chunk hashes and decodes one chunk, keeping a digest per event.
func (v *verifier) chunk(name string, data []byte) {
	c := &chunkSeen{sum: sha256.Sum256(data)}
	v.chunks[name] = c
	raw, err := v.dec.DecodeAll(data, nil)
	if err != nil {
		c.bad = fmt.Sprintf("zstd: %v", err)
		return
	}
	batch := &interlockv1.EventBatch{}
	if err := proto.Unmarshal(raw, batch); err != nil {
		c.bad = fmt.Sprintf("not an EventBatch: %v", err)
		return
	}
	seen := map[string]bool{}
	for i, e := range batch.GetEvents() {
		if e.GetSessionId() == "" || e.GetSeq() == 0 {
			c.bad = fmt.Sprintf("event %d has no session id or seq", i)
			return
		}
		if !seen[e.GetSessionId()] {
			seen[e.GetSessionId()] = true
			c.sessions = append(c.sessions, e.GetSessionId())
		}
		line, err := protojson.Marshal(e)
		if err != nil {
			c.bad = fmt.Sprintf("event %d: %v", i, err)
			return
		}
		_, digest, err := eventFromJSON(line)
		if err != nil {
			c.bad = fmt.Sprintf("event %d: %v", i, err)
			return
		}
		k := eventKey{e.GetSessionId(), e.GetSeq()}
		if prev, ok := v.events[k]; ok {
			v.rep.Fail("AU-12", "session %s event %d is in both %s and %s", k.session, k.seq, prev.chunk, name)
			continue
		}
		v.events[k] = eventSeen{digest: digest, chunk: name}
		v.count(e)
	}
}

// count adds an event to its session's AC-3 tally.
func (v *verifier) count(e *interlockv1.SessionEvent) {
	s := v.stats[e.GetSessionId()]
	if s == nil {
		s = &sessionStats{decisions: map[interlockv1.Action]int{}, decided: map[uint64]bool{}, asked: map[uint64]bool{}}
		v.stats[e.GetSessionId()] = s
	}
	switch ev := e.GetEvent().(type) {
	case *interlockv1.SessionEvent_HttpRequest:
		s.requests++
		s.asked[ev.HttpRequest.GetExchangeId()] = true
	case *interlockv1.SessionEvent_PgQuery:
		s.requests++
		s.asked[ev.PgQuery.GetExchangeId()] = true
	case *interlockv1.SessionEvent_Decision:
		s.decisions[ev.Decision.GetOutcome()]++
		s.decided[ev.Decision.GetExchangeId()] = true
	}
}

// eventFromJSON parses one event in protojson and digests its canonical
// binary form, so that the chunk's event and the JSON line compare equal
// exactly when they say the same.
func eventFromJSON(line []byte) (*interlockv1.SessionEvent, [32]byte, error) {
	e := &interlockv1.SessionEvent{}
	if err := protojson.Unmarshal(line, e); err != nil {
		return nil, [32]byte{}, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil {
		return nil, [32]byte{}, err
	}
	return e, sha256.Sum256(b), nil
}

// eventsFile reads a session's events.jsonl.
func (v *verifier) eventsFile(e *entry) error {
	var out []jsonEvent
	err := e.lines(v.lim.MaxLine, func(n int, line []byte) error {
		ev, digest, err := eventFromJSON(line)
		if err != nil {
			return fmt.Errorf("%w: %s line %d: %v", errBadLine, e.name, n, err)
		}
		out = append(out, jsonEvent{session: ev.GetSessionId(), seq: ev.GetSeq(), digest: digest})
		return nil
	})
	if errors.Is(err, errBadLine) {
		v.rep.Fail("AU-3", "%v", strings.TrimPrefix(err.Error(), errBadLine.Error()+": "))
		return nil
	}
	if err != nil {
		return v.lineErr(err)
	}
	v.jsonl[e.name] = out
	return nil
}

var errBadLine = errors.New("bad line")

// lineErr turns a line reader's error into a problem or passes I/O on.
func (v *verifier) lineErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	v.rep.Fail("AU-9", "%v", err)
	return errStop
}

// auditFile reads audit/records.jsonl.
func (v *verifier) auditFile(e *entry) error {
	err := e.lines(v.lim.MaxLine, func(n int, line []byte) error {
		var a AuditLine
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return fmt.Errorf("%w: %s line %d: %v", errBadLine, e.name, n, err)
		}
		leaf, err := a.leaf()
		if err != nil {
			return fmt.Errorf("%w: %s line %d: %v", errBadLine, e.name, n, err)
		}
		proof, err := parseHashes(a.Proof)
		if err != nil {
			return fmt.Errorf("%w: %s line %d: %v", errBadLine, e.name, n, err)
		}
		v.audit = append(v.audit, auditSeen{line: a, leaf: merkle.LeafHash(leaf), proof: proof})
		return nil
	})
	if errors.Is(err, errBadLine) {
		v.rep.Fail("AU-10", "%v", strings.TrimPrefix(err.Error(), errBadLine.Error()+": "))
		return nil
	}
	if err != nil {
		return v.lineErr(err)
	}
	return nil
}

func parseHashes(hs []string) ([]merkle.Hash, error) {
	if len(hs) > 64 {
		return nil, fmt.Errorf("proof of %d hashes", len(hs))
	}
	out := make([]merkle.Hash, len(hs))
	for i, s := range hs {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != merkle.HashSize {
			return nil, fmt.Errorf("proof hash %d %q is not 32 bytes of hex", i, s)
		}
		out[i] = merkle.Hash(b)
	}
	return out, nil
}
