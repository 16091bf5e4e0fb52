// SPDX-License-Identifier: Apache-2.0

package evidence

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/control/auditlog"
	"github.com/interlockhq/interlock/control/merkle"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// spec is a bundle to build as the control plane would.
type spec struct {
	key ed25519.PrivateKey
	// chunks are node n1's chunks, seq 1 on, each a list of events.
	chunks [][]*interlockv1.SessionEvent
	// records are the audit records, logged after the chunks.
	records []auditlog.RecordLeaf
	// mutate, if set, changes a file's bytes before it is added (and so
	// before the manifest digests and signs it): a dishonest exporter.
	mutate func(name string, b []byte) []byte
	// omitted says, by session, how many of its chunks the manifest says
	// were stored after the checkpoint.
	omitted map[string]int
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ev(session string, seq uint64, e any) *interlockv1.SessionEvent {
	out := &interlockv1.SessionEvent{SessionId: session, Seq: seq, Time: timestamppb.New(time.Unix(1700000000+int64(seq), 0))}
	switch e := e.(type) {
	case *interlockv1.SessionOpen:
		out.Event = &interlockv1.SessionEvent_Open{Open: e}
	case *interlockv1.HTTPRequest:
		out.Event = &interlockv1.SessionEvent_HttpRequest{HttpRequest: e}
	case *interlockv1.Decision:
		out.Event = &interlockv1.SessionEvent_Decision{Decision: e}
	case *interlockv1.SessionClose:
		out.Event = &interlockv1.SessionEvent_Close{Close: e}
	}
	return out
}

// defaultSpec: session s1 over chunks 1 and 2, s2 in chunks 2 and 3, and
// three audit records.
func defaultSpec(t testing.TB) spec {
	req := func(x uint64) *interlockv1.HTTPRequest {
		return &interlockv1.HTTPRequest{ExchangeId: x, Method: "POST", Host: "management.azure.com", Path: "/subscriptions/s/x"}
	}
	dec := func(x uint64, a interlockv1.Action) *interlockv1.Decision {
		return &interlockv1.Decision{ExchangeId: x, Action: a, Outcome: a, Rule: "r"}
	}
	return spec{
		key: newKey(t),
		chunks: [][]*interlockv1.SessionEvent{
			{ev("s1", 1, &interlockv1.SessionOpen{Target: "arm"}), ev("s1", 2, req(1)), ev("s1", 3, dec(1, interlockv1.Action_ACTION_ALLOW))},
			{ev("s2", 1, &interlockv1.SessionOpen{Target: "arm"}), ev("s1", 4, &interlockv1.SessionClose{Reason: "done"}), ev("s2", 2, req(1))},
			{ev("s2", 3, dec(1, interlockv1.Action_ACTION_DENY)), ev("s2", 4, &interlockv1.SessionClose{})},
		},
		records: []auditlog.RecordLeaf{
			{ID: 1, Time: time.Unix(1700000000, 5), Actor: "node:n1", Action: "node.enroll", Object: "n1"},
			{ID: 2, Time: time.Unix(1700000001, 0), Actor: "alice", Action: "approval.request", Object: "a1"},
			{ID: 3, Time: time.Unix(1700000002, 0), Actor: "bob", Action: "approval.decide", Object: "a1", Detail: "approve"},
		},
	}
}

// build writes the bundle sp describes and returns it with the log key
// in verifier form.
func build(t testing.TB, sp spec) (bundle []byte, vkey string) {
	t.Helper()
	signer, err := auditlog.NewSigner(auditlog.DefaultOrigin(sp.key.Public().(ed25519.PublicKey)), sp.key)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	var tr merkle.Tree
	var stored [][]byte
	var leaves []uint64
	var sessionsOf [][]string
	for i, evs := range sp.chunks {
		raw, _ := proto.Marshal(&interlockv1.EventBatch{Events: evs})
		z := enc.EncodeAll(raw, nil)
		var ids []string
		for _, e := range evs {
			if !slices.Contains(ids, e.GetSessionId()) {
				ids = append(ids, e.GetSessionId())
			}
		}
		stored, sessionsOf = append(stored, z), append(sessionsOf, ids)
		leaves = append(leaves, tr.Append(auditlog.ChunkLeaf{Node: "n1", Seq: uint64(i + 1), SHA256: sha256.Sum256(z), Sessions: ids}.Encode()))
	}
	var recLeaves []uint64
	for _, r := range sp.records {
		recLeaves = append(recLeaves, tr.Append(r.Encode()))
	}
	root, _ := tr.Root(tr.Size())
	signed, err := signer.SignCheckpoint(auditlog.Checkpoint{Origin: signer.Origin(), Size: tr.Size(), Root: root, Time: time.Unix(1700000100, 0)})
	if err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	w := NewWriter(&out, time.Unix(1700000100, 0))
	add := func(name string, b []byte) {
		t.Helper()
		if sp.mutate != nil {
			b = sp.mutate(name, b)
		}
		if b == nil {
			return
		}
		if err := w.Add(name, b); err != nil {
			t.Fatal(err)
		}
	}
	controls, _ := json.Marshal(Controls())
	add(ReadmeFile, []byte(README))
	add(CheckpointFile, signed.Note)
	add(KeyFile, []byte(signer.VerifierKey()+"\n"))
	add(ControlsFile, controls)
	m := &Manifest{Checkpoint: ManifestCheckpoint{Origin: signer.Origin(), Size: tr.Size(), Root: base64.StdEncoding.EncodeToString(root[:]), KeyID: signer.KeyID()}}
	for i, z := range stored {
		seq := uint64(i + 1)
		proof, _ := tr.InclusionProof(leaves[i], tr.Size())
		leaf, _ := tr.Node(0, leaves[i])
		pj, _ := json.Marshal(ChunkProof{Node: "n1", Seq: seq, Leaf: leaves[i], TreeSize: tr.Size(), LeafHash: leaf.String(), Hashes: hexes(proof)})
		add(ChunkPath("n1", seq), z)
		add(ProofPath("n1", seq), pj)
		sum := sha256.Sum256(z)
		m.Chunks = append(m.Chunks, ManifestChunk{Node: "n1", Seq: seq, Leaf: leaves[i], SHA256: hex.EncodeToString(sum[:]), Path: ChunkPath("n1", seq), Proof: ProofPath("n1", seq), Sessions: sessionsOf[i]})
	}
	for _, id := range []string{"s1", "s2"} {
		var evs []*interlockv1.SessionEvent
		var chunks []string
		for i, c := range sp.chunks {
			for _, e := range c {
				if e.GetSessionId() == id {
					evs = append(evs, e)
					if !slices.Contains(chunks, fmt.Sprintf("n1/%d", i+1)) {
						chunks = append(chunks, fmt.Sprintf("n1/%d", i+1))
					}
				}
			}
		}
		slices.SortFunc(evs, func(a, b *interlockv1.SessionEvent) int { return int(a.GetSeq()) - int(b.GetSeq()) })
		var lines bytes.Buffer
		for _, e := range evs {
			b, _ := protojson.Marshal(e)
			lines.Write(append(b, '\n'))
		}
		sum, _ := protojson.Marshal(&interlockv1.SessionSummary{SessionId: id, Node: "n1", Events: uint64(len(evs))})
		add(SessionSummaryPath(id), sum)
		add(SessionEventsPath(id), lines.Bytes())
		m.Sessions = append(m.Sessions, ManifestSession{ID: id, Node: "n1", Summary: SessionSummaryPath(id), Events: SessionEventsPath(id), EventCount: uint64(len(evs)), Complete: sp.omitted[id] == 0, Chunks: chunks, Omitted: sp.omitted[id]})
	}
	var audit bytes.Buffer
	for i, r := range sp.records {
		proof, _ := tr.InclusionProof(recLeaves[i], tr.Size())
		b, _ := json.Marshal(AuditLine{ID: r.ID, Leaf: recLeaves[i], Time: r.Time.UTC().Format(time.RFC3339Nano), Actor: r.Actor, Action: r.Action, Object: r.Object, Detail: r.Detail, Proof: hexes(proof)})
		audit.Write(append(b, '\n'))
	}
	add(AuditFile, audit.Bytes())
	m.Audit = AuditEntry{Path: AuditFile, Count: len(sp.records)}
	if err := w.Close(m, signer.SignNote); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), signer.VerifierKey()
}

func hexes(hs []merkle.Hash) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.String())
	}
	return out
}

// file is one archive entry, for tampering.
type file struct {
	hdr  *tar.Header
	data []byte
}

func untar(t testing.TB, b []byte) []file {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []file
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		d, _ := io.ReadAll(tr)
		out = append(out, file{h, d})
	}
}

func retar(t testing.TB, fs []file) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, f := range fs {
		h := *f.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	tw.Close()
	return out.Bytes()
}

func find(fs []file, name string) int {
	return slices.IndexFunc(fs, func(f file) bool { return f.hdr.Name == name })
}
