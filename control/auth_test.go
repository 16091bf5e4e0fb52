// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/interlockhq/interlock/control/auth"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// TestRoleTableCoversEveryMethod fails when a method of the control API
// (in the .proto files or registered on the server) has no role entry.
func TestRoleTableCoversEveryMethod(t *testing.T) {
	_ = interlockv1.File_interlock_v1_node_proto // make sure the files are registered
	var methods []string
	protoregistry.GlobalFiles.RangeFilesByPackage("interlock.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				methods = append(methods, "/"+string(sd.FullName())+"/"+string(sd.Methods().Get(j).Name()))
			}
		}
		return true
	})
	ts := startServer(t, t.TempDir(), newIssuer(t))
	for svc, info := range ts.srv.ServiceInfo() {
		for _, m := range info.Methods {
			if full := "/" + svc + "/" + m.Name; !slices.Contains(methods, full) {
				methods = append(methods, full)
			}
		}
	}
	if len(methods) < 17 {
		t.Fatalf("found only %d methods: %v", len(methods), methods)
	}
	for _, m := range methods {
		if _, ok := auth.MethodRoles(m); !ok {
			t.Errorf("method %s has no entry in the role table", m)
		}
	}
}

// call is one method invoked with a minimal request; the error is what
// the caller got back.
type call func(ctx context.Context, cc *grpc.ClientConn) error

func recvOnce[T any](s grpc.ServerStreamingClient[T], err error) error {
	if err != nil {
		return err
	}
	_, err = s.Recv()
	return err
}

var calls = map[string]call{
	"NodeService/List": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewNodeServiceClient(cc).List(ctx, &interlockv1.ListNodesRequest{})
		return err
	},
	"PolicyService/Push": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewPolicyServiceClient(cc).Push(ctx, &interlockv1.PushPolicyRequest{
			Documents: []*interlockv1.PolicyDocument{{Name: "p.yaml", Yaml: []byte("kind: Policy")}}, DryRun: true})
		return err
	},
	"PolicyService/Get": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewPolicyServiceClient(cc).Get(ctx, &interlockv1.GetPolicyRequest{})
		return err
	},
	"PolicyService/Watch": func(ctx context.Context, cc *grpc.ClientConn) error {
		return recvOnce(interlockv1.NewPolicyServiceClient(cc).Watch(ctx, &interlockv1.WatchPolicyRequest{}))
	},
	"ApprovalService/Request": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewApprovalServiceClient(cc).Request(ctx, approvalReq("agent", "fp", 1, 0))
		return err
	},
	"ApprovalService/Get": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewApprovalServiceClient(cc).Get(ctx, &interlockv1.GetApprovalRequest{Id: "none"})
		return err
	},
	"ApprovalService/List": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewApprovalServiceClient(cc).List(ctx, &interlockv1.ListApprovalsRequest{})
		return err
	},
	"ApprovalService/Decide": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewApprovalServiceClient(cc).Decide(ctx, &interlockv1.DecideRequest{Id: "none", Approve: true})
		return err
	},
	"ApprovalService/Watch": func(ctx context.Context, cc *grpc.ClientConn) error {
		return recvOnce(interlockv1.NewApprovalServiceClient(cc).Watch(ctx, &interlockv1.WatchApprovalsRequest{}))
	},
	"SessionService/Upload": func(ctx context.Context, cc *grpc.ClientConn) error {
		s, err := interlockv1.NewSessionServiceClient(cc).Upload(ctx)
		if err != nil {
			return err
		}
		s.CloseSend()
		_, err = s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	},
	"SessionService/Resume": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewSessionServiceClient(cc).Resume(ctx, &interlockv1.ResumeRequest{})
		return err
	},
	"AuditService/ListSessions": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewAuditServiceClient(cc).ListSessions(ctx, &interlockv1.ListSessionsRequest{})
		return err
	},
	"AuditService/GetSession": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewAuditServiceClient(cc).GetSession(ctx, &interlockv1.GetSessionRequest{SessionId: "none"})
		return err
	},
	"AuditService/ReadSession": func(ctx context.Context, cc *grpc.ClientConn) error {
		return recvOnce(interlockv1.NewAuditServiceClient(cc).ReadSession(ctx, &interlockv1.ReadSessionRequest{SessionId: "none"}))
	},
	"AuditService/GetCheckpoint": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewAuditServiceClient(cc).GetCheckpoint(ctx, &interlockv1.GetCheckpointRequest{})
		return err
	},
	"AuditService/ExportEvidence": func(ctx context.Context, cc *grpc.ClientConn) error {
		return recvOnce(interlockv1.NewAuditServiceClient(cc).ExportEvidence(ctx, &interlockv1.ExportEvidenceRequest{}))
	},
	"AuditService/GetConsistencyProof": func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := interlockv1.NewAuditServiceClient(cc).GetConsistencyProof(ctx, &interlockv1.GetConsistencyProofRequest{})
		return err
	},
}

// TestRoles calls every method as every kind of caller: who may call what
// is written out here, independently of the table in package auth.
func TestRoles(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	other := newIssuer(t) // same issuer name, wrong key: a forged token
	conns := map[string]*grpc.ClientConn{
		"node":        ts.node(ts.enroll("vm1")),
		"approver":    ts.person(iss.token(t, "alice", "approvers")),
		"auditor":     ts.person(iss.token(t, "carol", "auditors")),
		"admin":       ts.person(iss.token(t, "dave", "admins")),
		"local-admin": ts.person(ts.admin),
		"no-role":     ts.person(iss.token(t, "eve")),
		"forged":      ts.person(other.token(t, "mallory", "admins", "approvers", "auditors")),
		"wrong-admin": ts.person(auth.AdminTokenPrefix + "guessed"),
		"anonymous":   ts.anonymous(),
	}
	allowed := map[string][]string{
		"NodeService/List":                 {"admin", "local-admin"},
		"PolicyService/Push":               {"admin", "local-admin"},
		"PolicyService/Get":                {"admin", "local-admin", "auditor"},
		"PolicyService/Watch":              {"node"},
		"ApprovalService/Request":          {"node"},
		"ApprovalService/Get":              {"node", "approver", "auditor", "local-admin"},
		"ApprovalService/List":             {"approver", "auditor", "local-admin"},
		"ApprovalService/Decide":           {"approver", "local-admin"},
		"ApprovalService/Watch":            {"node", "approver", "local-admin"},
		"SessionService/Upload":            {"node"},
		"SessionService/Resume":            {"node"},
		"AuditService/ListSessions":        {"auditor", "admin", "local-admin"},
		"AuditService/GetSession":          {"auditor", "admin", "local-admin"},
		"AuditService/ReadSession":         {"auditor", "admin", "local-admin"},
		"AuditService/GetCheckpoint":       {"auditor", "admin", "local-admin"},
		"AuditService/ExportEvidence":      {"auditor", "admin", "local-admin"},
		"AuditService/GetConsistencyProof": {"auditor", "admin", "local-admin"},
	}
	if len(allowed) != len(calls) {
		t.Fatalf("%d expectations for %d calls", len(allowed), len(calls))
	}
	for method, fn := range calls {
		for who, cc := range conns {
			t.Run(method+"/"+who, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				code := status.Code(fn(ctx, cc))
				switch {
				case who == "forged" || who == "anonymous" || who == "wrong-admin":
					if code != codes.Unauthenticated {
						t.Errorf("code %v, want Unauthenticated", code)
					}
				case slices.Contains(allowed[method], who):
					if code == codes.PermissionDenied || code == codes.Unauthenticated {
						t.Errorf("code %v, want the call let through", code)
					}
				default:
					if code != codes.PermissionDenied {
						t.Errorf("code %v, want PermissionDenied", code)
					}
				}
			})
		}
	}
}

func TestPermissionDeniedNamesTheRoles(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	cc := ts.person(iss.token(t, "carol", "auditors"))
	_, err := interlockv1.NewApprovalServiceClient(cc).Decide(context.Background(), &interlockv1.DecideRequest{Id: "x"})
	if st := status.Convert(err); st.Code() != codes.PermissionDenied || st.Message() != "needs role approver; you have auditor" {
		t.Errorf("Decide as auditor = %v", err)
	}
}

func TestEnroll(t *testing.T) {
	ts := startServer(t, t.TempDir(), newIssuer(t))
	ctx := context.Background()
	client := interlockv1.NewNodeServiceClient(ts.anonymous())
	key := mustKey(t)
	tok := ts.bootstrapToken()
	req := &interlockv1.EnrollRequest{NodeName: "vm1", BootstrapToken: tok, ClientCsr: csrFor(t, key), CaCsr: csrFor(t, mustKey(t))}
	resp, err := client.Enroll(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetNodeId() == "" || len(resp.GetControlCa()) == 0 || len(resp.GetWorkloadCa()) == 0 || len(resp.GetNodeCa()) == 0 {
		t.Fatalf("Enroll response incomplete: %v", resp)
	}
	expired, err := NewBootstrapToken(ctx, ts.db, time.Nanosecond, "expired")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	tests := []struct {
		name string
		mod  func(r *interlockv1.EnrollRequest)
		code codes.Code
	}{
		{"token reused", func(r *interlockv1.EnrollRequest) {}, codes.Unauthenticated},
		{"token expired", func(r *interlockv1.EnrollRequest) { r.BootstrapToken = expired }, codes.Unauthenticated},
		{"token unknown", func(r *interlockv1.EnrollRequest) { r.BootstrapToken = BootstrapTokenPrefix + strings.Repeat("x", 43) }, codes.Unauthenticated},
		{"bad csr", func(r *interlockv1.EnrollRequest) {
			r.BootstrapToken = ts.bootstrapToken()
			r.ClientCsr = []byte("junk")
		}, codes.InvalidArgument},
		{"no name", func(r *interlockv1.EnrollRequest) { r.NodeName = "" }, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &interlockv1.EnrollRequest{NodeName: req.NodeName, BootstrapToken: req.BootstrapToken, ClientCsr: req.ClientCsr, CaCsr: req.CaCsr}
			tt.mod(r)
			if _, err := client.Enroll(ctx, r); status.Code(err) != tt.code {
				t.Errorf("Enroll = %v, want %v", err, tt.code)
			}
		})
	}
	// A bad CSR does not burn the token: it is checked first.
	nodes, err := interlockv1.NewNodeServiceClient(ts.person(ts.admin)).List(ctx, &interlockv1.ListNodesRequest{})
	if err != nil || len(nodes.GetNodes()) != 1 || nodes.GetNodes()[0].GetName() != "vm1" {
		t.Fatalf("List = %v, %v; want only vm1", nodes, err)
	}
}
