// SPDX-License-Identifier: Apache-2.0

package control

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/control/auditlog"
	"github.com/interlockhq/interlock/control/evidence"
	"github.com/interlockhq/interlock/control/merkle"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// logKey is the log's verifier key as its operator would hand it out:
// from the key file, not from the API.
func (ts *testServer) logKey() string {
	key := ts.ca.LogKey()
	s, err := auditlog.NewSigner(auditlog.DefaultOrigin(key.Public().(ed25519.PublicKey)), key)
	if err != nil {
		ts.t.Fatal(err)
	}
	return s.VerifierKey()
}

func exportBundle(t *testing.T, c interlockv1.AuditServiceClient, f *interlockv1.SessionFilter) []byte {
	t.Helper()
	s, err := c.ExportEvidence(context.Background(), &interlockv1.ExportEvidenceRequest{Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for {
		m, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.Bytes()
		}
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		b.Write(m.GetData())
	}
}

// TestCheckpoints: signed, kept, re-signed only when the log grew, the
// same key after a restart, and consistent with each other.
func TestCheckpoints(t *testing.T) {
	ts := startServer(t, t.TempDir(), newIssuer(t))
	ctx := context.Background()
	node := ts.node(ts.enroll("vm1")) // node.enroll: leaf 0
	audit := interlockv1.NewAuditServiceClient(ts.person(ts.iss.token(t, "carol", "auditors")))
	vk, err := auditlog.NewVerifier(ts.logKey())
	if err != nil {
		t.Fatal(err)
	}
	open := func(cp *interlockv1.Checkpoint) auditlog.Checkpoint {
		t.Helper()
		note, err := auditlog.NoteFromSignature([]byte(cp.GetNote()), cp.GetSignature(), cp.GetOrigin(), cp.GetKeyId())
		if err != nil {
			t.Fatal(err)
		}
		c, err := vk.OpenCheckpoint(note)
		if err != nil {
			t.Fatalf("checkpoint does not verify: %v\n%s", err, note)
		}
		if c.Size != cp.GetSize() || !bytes.Equal(c.Root[:], cp.GetRootHash()) || cp.GetVerifierKey() != ts.logKey() {
			t.Fatalf("checkpoint message %v disagrees with its note %+v", cp, c)
		}
		return c
	}
	first, err := audit.GetCheckpoint(ctx, &interlockv1.GetCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c1 := open(first)
	if c1.Size != 1 {
		t.Errorf("first checkpoint size %d, want 1 (the enrolment)", c1.Size)
	}
	again, _ := audit.GetCheckpoint(ctx, &interlockv1.GetCheckpointRequest{})
	if !again.GetTime().AsTime().Equal(first.GetTime().AsTime()) {
		t.Error("a new checkpoint was signed although the log did not grow")
	}
	evs := sessionSpec{id: "s1", workload: "billing", subject: "app-1", target: "arm", op: "op", opened: time.Now(), exchanges: 2, outcome: interlockv1.Action_ACTION_ALLOW}.events()
	if _, err := upload(ctx, node, mkChunk(1, evs[:3]), mkChunk(2, evs[3:])); err != nil {
		t.Fatal(err)
	}
	ts.restart()
	audit = interlockv1.NewAuditServiceClient(ts.person(ts.admin))
	second, err := audit.GetCheckpoint(ctx, &interlockv1.GetCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c2 := open(second)
	if c2.Size != 3 || c2.Origin != c1.Origin {
		t.Errorf("second checkpoint %+v, want size 3 of %s", c2, c1.Origin)
	}
	p, err := audit.GetConsistencyProof(ctx, &interlockv1.GetConsistencyProofRequest{FirstSize: c1.Size, SecondSize: c2.Size})
	if err != nil {
		t.Fatal(err)
	}
	var hs []merkle.Hash
	for _, h := range p.GetHashes() {
		hs = append(hs, merkle.Hash(h))
	}
	if err := merkle.VerifyConsistency(c1.Size, c2.Size, c1.Root, c2.Root, hs); err != nil {
		t.Errorf("consistency 1 -> 3: %v", err)
	}
	if _, err := audit.GetConsistencyProof(ctx, &interlockv1.GetConsistencyProofRequest{FirstSize: 2, SecondSize: 99}); status.Code(err) != codes.OutOfRange {
		t.Errorf("proof past the end = %v, want OutOfRange", err)
	}
	if _, err := audit.GetConsistencyProof(ctx, &interlockv1.GetConsistencyProofRequest{FirstSize: 3, SecondSize: 2}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("proof backwards = %v, want InvalidArgument", err)
	}
}

// TestExportEvidenceRoundTrip uploads sessions through the real server,
// exports them, verifies the bundle offline, then tampers with it.
func TestExportEvidenceRoundTrip(t *testing.T) {
	ts := startServer(t, t.TempDir(), newIssuer(t))
	ctx := context.Background()
	node := ts.node(ts.enroll("vm1"))
	t0 := time.Now().Add(-time.Hour)
	s1 := sessionSpec{id: "s-allowed", workload: "billing", subject: "app-1", target: "arm", op: "Microsoft.Storage/storageAccounts/listKeys/action", opened: t0, exchanges: 3, outcome: interlockv1.Action_ACTION_ALLOW}.events()
	s2 := sessionSpec{id: "s-denied", workload: "reports", subject: "app-2", target: "arm", op: "Microsoft.Resources/subscriptions/resourceGroups/delete", opened: t0.Add(time.Minute), exchanges: 1, outcome: interlockv1.Action_ACTION_DENY}.events()
	// Chunk 2 holds events of both sessions.
	chunks := []*interlockv1.UploadChunk{mkChunk(1, s1[:5]), mkChunk(2, append(append([]*interlockv1.SessionEvent{}, s1[5:8]...), s2[:2]...)), mkChunk(3, append(s1[8:], s2[2:]...))}
	if _, err := upload(ctx, node, chunks...); err != nil {
		t.Fatal(err)
	}
	if _, err := interlockv1.NewApprovalServiceClient(node).Request(ctx, approvalReq("app-1", "rotate", 1, time.Hour)); err != nil {
		t.Fatal(err)
	}
	audit := interlockv1.NewAuditServiceClient(ts.person(ts.iss.token(t, "carol", "auditors")))
	bundle := exportBundle(t, audit, nil)

	rep := evidence.Verify(ctx, bytes.NewReader(bundle), evidence.Options{Key: ts.logKey()})
	var out strings.Builder
	rep.Print(&out)
	if !rep.OK() {
		t.Fatalf("exported bundle does not verify:\n%s", out.String())
	}
	if rep.Sessions != 2 || rep.Chunks != 3 || rep.Events != len(s1)+len(s2) || rep.Records != 2 || rep.Checkpoint.Size != 5 {
		t.Errorf("report %+v\n%s", rep, out.String())
	}
	for _, want := range []string{"AC-5", "1 approval records (1 requests, 0 decisions)", "decisions: 3 allow, 1 deny", "\nVERIFIED: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	// A filter narrows the sessions; the chunk they share comes once.
	one := exportBundle(t, audit, &interlockv1.SessionFilter{Decision: interlockv1.Action_ACTION_DENY})
	rep = evidence.Verify(ctx, bytes.NewReader(one), evidence.Options{Key: ts.logKey()})
	if !rep.OK() || rep.Sessions != 1 || rep.Chunks != 2 || rep.Events != len(s2) {
		t.Errorf("filtered export: %+v", rep)
	}

	// Tampering: a flipped byte in the shared chunk.
	var tampered bytes.Buffer
	tw := tar.NewWriter(&tampered)
	tr := tar.NewReader(bytes.NewReader(bundle))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if h.Name == evidence.ChunkPath(onlyNodeID(t, ts), 2) {
			data[len(data)/3] ^= 0x40
		}
		tw.WriteHeader(h)
		tw.Write(data)
	}
	tw.Close()
	rep = evidence.Verify(ctx, bytes.NewReader(tampered.Bytes()), evidence.Options{Key: ts.logKey()})
	if rep.OK() || !strings.Contains(rep.Err().Error(), "00000000000000000002.zst: SHA-256") {
		t.Errorf("tampered bundle: %v", rep.Err())
	}
	// Another control plane's key does not vouch for this one's bundle.
	other := startServer(t, t.TempDir(), newIssuer(t))
	rep = evidence.Verify(ctx, bytes.NewReader(bundle), evidence.Options{Key: other.logKey()})
	if rep.OK() || !strings.Contains(rep.Err().Error(), "no valid signature by the log key") {
		t.Errorf("bundle checked with another key: %v", rep.Err())
	}
}

// onlyNodeID is the id of the test's only enrolled node.
func onlyNodeID(t *testing.T, ts *testServer) string {
	t.Helper()
	nodes, err := ts.db.Nodes(context.Background())
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes %v, %v", nodes, err)
	}
	return nodes[0].ID
}
