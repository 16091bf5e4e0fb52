// SPDX-License-Identifier: Apache-2.0

// ExportEvidence: an evidence bundle streamed as it is built, every chunk
// and audit record proven against one checkpoint.

package control

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/control/evidence"
	"github.com/interlockhq/interlock/control/merkle"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// exportMessageBytes is the most archive bytes one ExportEvidenceChunk
// carries.
const exportMessageBytes = 256 << 10

func (a *auditService) ExportEvidence(req *interlockv1.ExportEvidenceRequest, stream grpc.ServerStreamingServer[interlockv1.ExportEvidenceChunk]) error {
	ctx := stream.Context()
	cp, err := a.s.checkpoint(ctx)
	if err != nil {
		return a.s.statusOf("checkpoint", err)
	}
	out := &streamWriter{stream: stream}
	x := &exporter{s: a.s, cp: cp, w: evidence.NewWriter(out, time.Now()), written: map[string]bool{}}
	if err := x.run(ctx, req.GetFilter()); err != nil {
		return a.s.statusOf("evidence export", err)
	}
	if err := out.flush(); err != nil {
		return err
	}
	a.s.log.Info("evidence exported", "sessions", len(x.m.Sessions), "chunks", len(x.m.Chunks), "records", x.m.Audit.Count, "checkpoint", cp.Size)
	return nil
}

// streamWriter sends what is written as ExportEvidenceChunk messages of
// up to exportMessageBytes.
type streamWriter struct {
	stream grpc.ServerStreamingServer[interlockv1.ExportEvidenceChunk]
	buf    []byte
}

func (w *streamWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, exportMessageBytes)
		}
		k := min(len(p), exportMessageBytes-len(w.buf))
		w.buf, p = append(w.buf, p[:k]...), p[k:]
		if len(w.buf) == exportMessageBytes {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush sends what is buffered. A sent buffer is never reused: gRPC may
// still hold the message.
func (w *streamWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.stream.Send(&interlockv1.ExportEvidenceChunk{Data: w.buf})
	w.buf = nil
	return err
}

// exporter builds one bundle.
type exporter struct {
	s       *Server
	cp      store.Checkpoint
	w       *evidence.Writer
	m       evidence.Manifest
	written map[string]bool // chunk paths already in the bundle
}

func (x *exporter) run(ctx context.Context, filter *interlockv1.SessionFilter) error {
	for _, f := range []struct {
		name string
		data []byte
	}{
		{evidence.ReadmeFile, []byte(evidence.README)},
		{evidence.CheckpointFile, x.cp.Note},
		{evidence.KeyFile, []byte(x.s.signer.VerifierKey() + "\n")},
	} {
		if err := x.w.Add(f.name, f.data); err != nil {
			return err
		}
	}
	controls, err := json.MarshalIndent(evidence.Controls(), "", "  ")
	if err != nil {
		return fmt.Errorf("controls: %w", err)
	}
	if err := x.w.Add(evidence.ControlsFile, append(controls, '\n')); err != nil {
		return err
	}
	cursor := ""
	for {
		page, next, err := x.s.cfg.Store.Sessions(ctx, filter, 200, cursor)
		if err != nil {
			return err
		}
		for _, sum := range page {
			if err := x.session(ctx, sum); err != nil {
				return err
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if err := x.audit(ctx, filter); err != nil {
		return err
	}
	x.m.Created = time.Now().UTC().Format(time.RFC3339)
	x.m.Checkpoint = evidence.ManifestCheckpoint{
		Origin: x.cp.Origin, Size: x.cp.Size, Root: base64.StdEncoding.EncodeToString(x.cp.Root), KeyID: x.cp.KeyID,
	}
	if filter != nil {
		b, err := protojson.Marshal(filter)
		if err == nil {
			err = json.Unmarshal(b, &x.m.Filter)
		}
		if err != nil {
			return fmt.Errorf("filter: %w", err)
		}
	}
	return x.w.Close(&x.m, x.s.signer.SignNote)
}

// session adds a session: its chunks (each once) and their proofs, its
// summary, and its events decoded to JSON lines in seq order.
func (x *exporter) session(ctx context.Context, sum *interlockv1.SessionSummary) error {
	id := sum.GetSessionId()
	refs, err := x.s.cfg.Store.SessionChunks(ctx, id)
	if err != nil {
		return err
	}
	ms := evidence.ManifestSession{ID: id, Node: sum.GetNode(), Summary: evidence.SessionSummaryPath(id), Events: evidence.SessionEventsPath(id)}
	var events []*interlockv1.SessionEvent
	for _, ref := range refs {
		if ref.Leaf >= x.cp.Size {
			ms.Omitted++
			continue
		}
		batch, err := x.chunk(ctx, ref)
		if err != nil {
			return err
		}
		for _, e := range batch.GetEvents() {
			if e.GetSessionId() == id {
				events = append(events, e)
			}
		}
		ms.Chunks = append(ms.Chunks, fmt.Sprintf("%s/%d", ref.Node, ref.Seq))
	}
	slices.SortStableFunc(events, func(a, b *interlockv1.SessionEvent) int { return cmp.Compare(a.GetSeq(), b.GetSeq()) })
	var lines bytes.Buffer
	for _, e := range events {
		b, err := protojson.Marshal(e)
		if err != nil {
			return fmt.Errorf("session %s event %d: %w", id, e.GetSeq(), err)
		}
		lines.Write(b)
		lines.WriteByte('\n')
		if _, ok := e.GetEvent().(*interlockv1.SessionEvent_Close); ok {
			ms.Complete = true
		}
	}
	ms.EventCount = uint64(len(events))
	summary, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(sum)
	if err != nil {
		return fmt.Errorf("session %s: %w", id, err)
	}
	if err := x.w.Add(ms.Summary, append(summary, '\n')); err != nil {
		return err
	}
	if err := x.w.Add(ms.Events, lines.Bytes()); err != nil {
		return err
	}
	x.m.Sessions = append(x.m.Sessions, ms)
	return nil
}

// chunk reads and decodes a chunk and, the first time, adds its bytes and
// its inclusion proof to the bundle.
func (x *exporter) chunk(ctx context.Context, ref store.ChunkRef) (*interlockv1.EventBatch, error) {
	data, err := x.s.cfg.Store.ChunkData(ctx, ref.Node, ref.Seq)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], ref.SHA256) {
		x.s.log.Error("stored chunk does not match its digest", "node", ref.Node, "seq", ref.Seq)
		return nil, status.Errorf(codes.DataLoss, "chunk %s/%d: stored bytes do not match their SHA-256", ref.Node, ref.Seq)
	}
	raw, err := x.s.dec.DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("chunk %s/%d: zstd: %w", ref.Node, ref.Seq, err)
	}
	batch := &interlockv1.EventBatch{}
	if err := proto.Unmarshal(raw, batch); err != nil {
		return nil, fmt.Errorf("chunk %s/%d: %w", ref.Node, ref.Seq, err)
	}
	path := evidence.ChunkPath(ref.Node, ref.Seq)
	if x.written[path] {
		return batch, nil
	}
	x.written[path] = true
	proof, err := x.s.cfg.Store.LogInclusion(ctx, ref.Leaf, x.cp.Size)
	if err != nil {
		return nil, err
	}
	var sessions []string
	for _, e := range batch.GetEvents() {
		if !slices.Contains(sessions, e.GetSessionId()) {
			sessions = append(sessions, e.GetSessionId())
		}
	}
	leafData, err := x.s.cfg.Store.LogLeaf(ctx, ref.Leaf)
	if err != nil {
		return nil, err
	}
	leaf := merkle.LeafHash(leafData)
	p, err := json.MarshalIndent(evidence.ChunkProof{
		Node: ref.Node, Seq: ref.Seq, Leaf: ref.Leaf, TreeSize: x.cp.Size, LeafHash: leaf.String(), Hashes: hexHashes(proof),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("proof: %w", err)
	}
	if err := x.w.Add(path, data); err != nil {
		return nil, err
	}
	proofPath := evidence.ProofPath(ref.Node, ref.Seq)
	if err := x.w.Add(proofPath, append(p, '\n')); err != nil {
		return nil, err
	}
	x.m.Chunks = append(x.m.Chunks, evidence.ManifestChunk{
		Node: ref.Node, Seq: ref.Seq, Leaf: ref.Leaf, SHA256: hex.EncodeToString(ref.SHA256),
		Path: path, Proof: proofPath, Sessions: sessions,
	})
	return batch, nil
}

// audit adds the audit records in the filter's time window that the
// checkpoint covers, each with its inclusion proof.
func (x *exporter) audit(ctx context.Context, filter *interlockv1.SessionFilter) error {
	q := store.AuditQuery{BeforeLeaf: x.cp.Size, Limit: 500}
	if filter.GetSince() != nil {
		q.Since = filter.GetSince().AsTime()
	}
	if filter.GetUntil() != nil {
		q.Until = filter.GetUntil().AsTime()
	}
	var lines bytes.Buffer
	n := 0
	for {
		recs, err := x.s.cfg.Store.AuditLog(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range recs {
			proof, err := x.s.cfg.Store.LogInclusion(ctx, r.Leaf, x.cp.Size)
			if err != nil {
				return err
			}
			b, err := json.Marshal(evidence.AuditLine{
				ID: r.ID, Leaf: r.Leaf, Time: r.Time.UTC().Format(time.RFC3339Nano),
				Actor: r.Actor, Action: r.Action, Object: r.Object, Detail: r.Detail, Proof: hexHashes(proof),
			})
			if err != nil {
				return fmt.Errorf("audit record %d: %w", r.ID, err)
			}
			lines.Write(b)
			lines.WriteByte('\n')
			n++
		}
		if len(recs) < q.Limit {
			break
		}
		q.AfterID = recs[len(recs)-1].ID
	}
	x.m.Audit = evidence.AuditEntry{Path: evidence.AuditFile, Count: n}
	return x.w.Add(evidence.AuditFile, lines.Bytes())
}

func hexHashes(hs []merkle.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}
