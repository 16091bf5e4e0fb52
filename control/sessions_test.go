// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// sessionSpec describes a session to record.
type sessionSpec struct {
	id, workload, subject, target, op string
	opened                            time.Time
	exchanges                         int
	outcome                           interlockv1.Action
}

// events records a realistic HTTPS session: open, then per exchange a
// request with an Azure operation, a decision and a masked response,
// then close.
func (s sessionSpec) events() []*interlockv1.SessionEvent {
	var evs []*interlockv1.SessionEvent
	add := func(d time.Duration, e any) {
		ev := &interlockv1.SessionEvent{SessionId: s.id, Seq: uint64(len(evs) + 1),
			Time: timestamppb.New(s.opened.Add(d)), SinceOpen: durationpb.New(d)}
		switch e := e.(type) {
		case *interlockv1.SessionOpen:
			ev.Event = &interlockv1.SessionEvent_Open{Open: e}
		case *interlockv1.HTTPRequest:
			ev.Event = &interlockv1.SessionEvent_HttpRequest{HttpRequest: e}
		case *interlockv1.HTTPResponse:
			ev.Event = &interlockv1.SessionEvent_HttpResponse{HttpResponse: e}
		case *interlockv1.Decision:
			ev.Event = &interlockv1.SessionEvent_Decision{Decision: e}
		case *interlockv1.SessionClose:
			ev.Event = &interlockv1.SessionEvent_Close{Close: e}
		}
		evs = append(evs, ev)
	}
	id := &interlockv1.Identity{Issuer: "https://sts.windows.net/t/", Subject: s.subject, AppId: s.subject, ObjectId: s.subject, TenantId: "t"}
	add(0, &interlockv1.SessionOpen{Node: "vm1", Protocol: interlockv1.Protocol_PROTOCOL_HTTPS, Target: s.target,
		ServerName: "management.azure.com", OriginalDestination: "20.0.0.1:443", ClientAddress: "10.0.0.5:40000",
		Workload: &interlockv1.Workload{Kind: interlockv1.Workload_KIND_VM, Name: s.workload, Unit: s.workload + ".service", Pid: 4242, Uid: 1000}})
	for x := range s.exchanges {
		at := time.Duration(x+1) * 25 * time.Millisecond
		add(at, &interlockv1.HTTPRequest{ExchangeId: uint64(x + 1), Method: "POST", Host: "management.azure.com",
			Path:  "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/listKeys",
			Query: "api-version=2025-01-01", Proto: "HTTP/2.0", Identity: id,
			Headers: []*interlockv1.Header{{Name: "Authorization", Redacted: true}, {Name: "User-Agent", Values: []string{"azsdk-go-armstorage/v2.0.0"}}},
			Azure:   &interlockv1.AzureOperation{Subscription: "0000", ResourceGroup: "rg", Provider: "Microsoft.Storage", ResourceType: "storageAccounts", ResourceName: "acct", Action: "listKeys", Operation: s.op}})
		add(at+time.Millisecond, &interlockv1.Decision{ExchangeId: uint64(x + 1), Action: s.outcome, Outcome: s.outcome, Rule: "mask-storage-keys", Matched: []string{"mask-storage-keys"}, PolicyVersion: "3"})
		add(at+10*time.Millisecond, &interlockv1.HTTPResponse{ExchangeId: uint64(x + 1), Status: 200,
			Headers: []*interlockv1.Header{{Name: "Content-Type", Values: []string{"application/json"}}, {Name: "X-Ms-Request-Id", Values: []string{uuid.NewString()}}},
			Body: &interlockv1.Payload{Masked: []byte(`{"keys":[{"keyName":"key1","value":"***","permissions":"FULL"},{"keyName":"key2","value":"***","permissions":"FULL"}]}`),
				Size: 180, Sha256: randomBytes(32), ContentType: "application/json", Masks: []*interlockv1.MaskApplied{{Rule: "mask-storage-keys", JsonPath: "$.keys[*].value", Count: 2}}},
			UpstreamLatency: durationpb.New(8 * time.Millisecond), ProxyLatency: durationpb.New(300 * time.Microsecond)})
	}
	add(time.Duration(s.exchanges+1)*25*time.Millisecond, &interlockv1.SessionClose{Reason: "client closed", Exchanges: uint32(s.exchanges), BytesFromClient: 1200, BytesToClient: 5400})
	return evs
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

var enc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))

// mkChunk compresses events as chunk seq.
func mkChunk(seq uint64, evs []*interlockv1.SessionEvent) *interlockv1.UploadChunk {
	raw, err := proto.Marshal(&interlockv1.EventBatch{Events: evs})
	if err != nil {
		panic(err)
	}
	z := enc.EncodeAll(raw, nil)
	sum := sha256.Sum256(z)
	return &interlockv1.UploadChunk{Seq: seq, Zstd: z, Sha256: sum[:], Events: uint32(len(evs)), UncompressedSize: uint64(len(raw))}
}

// upload sends chunks on one stream and returns the acks.
func upload(ctx context.Context, cc *grpc.ClientConn, chunks ...*interlockv1.UploadChunk) ([]uint64, error) {
	s, err := interlockv1.NewSessionServiceClient(cc).Upload(ctx)
	if err != nil {
		return nil, err
	}
	var acks []uint64
	for _, c := range chunks {
		if err := s.Send(c); err != nil {
			break // the error comes with Recv
		}
		a, err := s.Recv()
		if err != nil {
			return acks, err
		}
		acks = append(acks, a.GetSeq())
	}
	s.CloseSend()
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		return acks, err
	}
	return acks, nil
}

func TestUploadIdempotentAndResumable(t *testing.T) {
	ts := startServer(t, t.TempDir(), newIssuer(t))
	ctx := context.Background()
	cc := ts.node(ts.enroll("vm1"))
	evs := sessionSpec{id: "s1", workload: "billing", subject: "app-1", target: "arm", op: "Microsoft.Storage/storageAccounts/listKeys/action",
		opened: time.Now(), exchanges: 9, outcome: interlockv1.Action_ACTION_ALLOW}.events()
	var chunks []*interlockv1.UploadChunk
	for i := 0; i < len(evs); i += 5 {
		chunks = append(chunks, mkChunk(uint64(len(chunks)+1), evs[i:min(i+5, len(evs))]))
	}
	// The stream is cut after two chunks.
	acks, err := upload(ctx, cc, chunks[:2]...)
	if err != nil || fmt.Sprint(acks) != "[1 2]" {
		t.Fatalf("first upload acks %v, %v", acks, err)
	}
	resume, err := interlockv1.NewSessionServiceClient(cc).Resume(ctx, &interlockv1.ResumeRequest{})
	if err != nil || resume.GetSeq() != 2 {
		t.Fatalf("Resume = %v, %v; want 2", resume, err)
	}
	// The node resends its last chunk (unsure it arrived), then the rest.
	acks, err = upload(ctx, cc, chunks[1:]...)
	if err != nil || acks[0] != 2 || acks[len(acks)-1] != uint64(len(chunks)) {
		t.Fatalf("resumed upload acks %v, %v", acks, err)
	}
	bad := mkChunk(2, evs[:1]) // seq 2 again, other content
	corrupt := mkChunk(uint64(len(chunks)+1), evs[:1])
	corrupt.Zstd = append([]byte(nil), corrupt.Zstd...)
	corrupt.Zstd[len(corrupt.Zstd)-1] ^= 1
	bomb := mkChunk(uint64(len(chunks)+1), nil)
	bomb.UncompressedSize = 1 << 40
	// A real bomb: 80 MiB of zeros claiming to be 100 bytes.
	zeros := enc.EncodeAll(make([]byte, 80<<20), nil)
	zsum := sha256.Sum256(zeros)
	realBomb := &interlockv1.UploadChunk{Seq: uint64(len(chunks) + 1), Zstd: zeros, Sha256: zsum[:], Events: 1, UncompressedSize: 100}
	lying := mkChunk(uint64(len(chunks)+1), evs[:2])
	lying.Events = 1
	tests := []struct {
		name   string
		chunk  *interlockv1.UploadChunk
		code   codes.Code
		resume uint64
	}{
		{"same seq, other sha256", bad, codes.AlreadyExists, 0},
		{"gap", mkChunk(uint64(len(chunks)+5), evs[:1]), codes.FailedPrecondition, uint64(len(chunks))},
		{"sha256 mismatch", corrupt, codes.DataLoss, 0},
		{"too large uncompressed", bomb, codes.InvalidArgument, 0},
		{"decompression bomb", realBomb, codes.InvalidArgument, 0},
		{"wrong event count", lying, codes.InvalidArgument, 0},
		{"seq 0", mkChunk(0, evs[:1]), codes.InvalidArgument, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := upload(ctx, cc, tt.chunk)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("upload = %v, want %v", err, tt.code)
			}
			if tt.chunk == realBomb && !strings.Contains(st.Message(), "zstd") {
				t.Errorf("bomb refused for another reason: %s", st.Message())
			}
			if tt.resume != 0 {
				var got uint64
				for _, d := range st.Details() {
					if r, ok := d.(*interlockv1.ResumeResponse); ok {
						got = r.GetSeq()
					}
				}
				if got != tt.resume || !strings.Contains(st.Message(), fmt.Sprintf("resume from %d", tt.resume+1)) {
					t.Errorf("gap error %q details resume %d, want %d", st.Message(), got, tt.resume)
				}
			}
		})
	}
	// Every event arrived exactly once, in order.
	got := readSession(t, ts.person(ts.admin), "s1", 0)
	if len(got) != len(evs) {
		t.Fatalf("read %d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		if !proto.Equal(got[i], evs[i]) {
			t.Fatalf("event %d differs:\n got %v\nwant %v", i, got[i], evs[i])
		}
	}
	if tail := readSession(t, ts.person(ts.admin), "s1", 20); len(tail) != len(evs)-19 || tail[0].GetSeq() != 20 {
		t.Errorf("from_seq 20: %d events starting at %d", len(tail), tail[0].GetSeq())
	}
	sum, err := interlockv1.NewAuditServiceClient(ts.person(ts.admin)).GetSession(ctx, &interlockv1.GetSessionRequest{SessionId: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.GetEvents() != uint64(len(evs)) || sum.GetExchanges() != 9 || sum.GetMasked() != 18 || !sum.GetComplete() ||
		sum.GetWorkload().GetName() != "billing" || sum.GetIdentity().GetSubject() != "app-1" || sum.GetTarget() != "arm" {
		t.Errorf("summary = %v", sum)
	}
}

// TestUploadForeignSession: a node cannot add events to another node's session.
func TestUploadForeignSession(t *testing.T) {
	ts := startServer(t, t.TempDir(), newIssuer(t))
	ctx := context.Background()
	evs := sessionSpec{id: "s1", workload: "w", subject: "a", target: "arm", op: "op", opened: time.Now(), exchanges: 1, outcome: interlockv1.Action_ACTION_ALLOW}.events()
	if _, err := upload(ctx, ts.node(ts.enroll("vm1")), mkChunk(1, evs[:2])); err != nil {
		t.Fatal(err)
	}
	_, err := upload(ctx, ts.node(ts.enroll("vm2")), mkChunk(1, evs[2:]))
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("upload into vm1's session from vm2 = %v, want PermissionDenied", err)
	}
}

func readSession(t *testing.T, cc *grpc.ClientConn, id string, from uint64) []*interlockv1.SessionEvent {
	t.Helper()
	s, err := interlockv1.NewAuditServiceClient(cc).ReadSession(context.Background(), &interlockv1.ReadSessionRequest{SessionId: id, FromSeq: from})
	if err != nil {
		t.Fatal(err)
	}
	var out []*interlockv1.SessionEvent
	for {
		e, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

func TestListSessionsFilters(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	specs := []sessionSpec{
		{"s1", "billing", "app-1", "arm", "Microsoft.Storage/storageAccounts/listKeys/action", t0, 2, interlockv1.Action_ACTION_ALLOW},
		{"s2", "billing", "app-2", "arm", "Microsoft.Resources/subscriptions/resourceGroups/delete", t0.Add(time.Minute), 1, interlockv1.Action_ACTION_DENY},
		{"s3", "reports", "app-1", "kv", "Microsoft.KeyVault/vaults/secrets/getSecret/action", t0.Add(2 * time.Minute), 3, interlockv1.Action_ACTION_ALLOW},
	}
	n1, n2 := ts.node(ts.enroll("vm1")), ts.node(ts.enroll("vm2"))
	if _, err := upload(ctx, n1, mkChunk(1, specs[0].events()), mkChunk(2, specs[1].events())); err != nil {
		t.Fatal(err)
	}
	if _, err := upload(ctx, n2, mkChunk(1, specs[2].events())); err != nil {
		t.Fatal(err)
	}
	nodes, err := interlockv1.NewNodeServiceClient(ts.person(ts.admin)).List(ctx, &interlockv1.ListNodesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	vm2 := nodes.GetNodes()[1].GetNodeId()
	audit := interlockv1.NewAuditServiceClient(ts.person(iss.token(t, "carol", "auditors")))
	tests := []struct {
		name string
		f    *interlockv1.SessionFilter
		want string
	}{
		{"all", nil, "[s3 s2 s1]"},
		{"identity", &interlockv1.SessionFilter{Identity: "app-1"}, "[s3 s1]"},
		{"workload", &interlockv1.SessionFilter{Workload: "billing"}, "[s2 s1]"},
		{"target", &interlockv1.SessionFilter{Target: "kv"}, "[s3]"},
		{"operation", &interlockv1.SessionFilter{Operation: "Microsoft.Resources/subscriptions/resourceGroups/delete"}, "[s2]"},
		{"decision deny", &interlockv1.SessionFilter{Decision: interlockv1.Action_ACTION_DENY}, "[s2]"},
		{"decision allow", &interlockv1.SessionFilter{Decision: interlockv1.Action_ACTION_ALLOW}, "[s3 s1]"},
		{"since", &interlockv1.SessionFilter{Since: timestamppb.New(t0.Add(time.Minute))}, "[s3 s2]"},
		{"until", &interlockv1.SessionFilter{Until: timestamppb.New(t0.Add(time.Minute))}, "[s1]"},
		{"node", &interlockv1.SessionFilter{Node: vm2}, "[s3]"},
		{"identity and decision", &interlockv1.SessionFilter{Identity: "app-2", Decision: interlockv1.Action_ACTION_DENY}, "[s2]"},
		{"nothing", &interlockv1.SessionFilter{Workload: "nobody"}, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			tok := ""
			for {
				resp, err := audit.ListSessions(ctx, &interlockv1.ListSessionsRequest{Filter: tt.f, PageSize: 2, PageToken: tok})
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range resp.GetSessions() {
					ids = append(ids, s.GetSessionId())
				}
				if tok = resp.GetNextPageToken(); tok == "" {
					break
				}
			}
			if fmt.Sprint(ids) != tt.want {
				t.Errorf("got %v, want %s", ids, tt.want)
			}
		})
	}
	s2, err := audit.GetSession(ctx, &interlockv1.GetSessionRequest{SessionId: "s2"})
	if err != nil || s2.GetDenied() != 1 {
		t.Errorf("s2 = %v, %v; want 1 denied", s2, err)
	}
	if _, err := audit.ListSessions(ctx, &interlockv1.ListSessionsRequest{PageToken: "junk!"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad page token = %v", err)
	}
}
