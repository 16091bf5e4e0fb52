// SPDX-License-Identifier: Apache-2.0

// Request validation: what every request must hold before a handler runs.

package control

import (
	"crypto/sha256"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Limits on request fields.
const (
	maxNameLen    = 253
	maxTextLen    = 4096
	maxDocuments  = 256
	maxDocBytes   = 1 << 20
	maxApprovers  = 64
	maxPageSize   = 1000
	minTokenBytes = 16
)

// validate returns INVALID_ARGUMENT for a malformed request.
func validate(req any) error {
	if err := check(req); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return nil
}

func check(req any) error {
	switch r := req.(type) {
	case *interlockv1.EnrollRequest:
		if r.GetNodeName() == "" || len(r.GetNodeName()) > maxNameLen {
			return fmt.Errorf("node_name: want 1 to %d bytes", maxNameLen)
		}
		if len(r.GetBootstrapToken()) < minTokenBytes {
			return fmt.Errorf("bootstrap_token: missing or too short")
		}
		if len(r.GetClientCsr()) == 0 || len(r.GetCaCsr()) == 0 {
			return fmt.Errorf("client_csr and ca_csr are required")
		}
	case *interlockv1.PushPolicyRequest:
		if n := len(r.GetDocuments()); n == 0 || n > maxDocuments {
			return fmt.Errorf("documents: want 1 to %d", maxDocuments)
		}
		seen := map[string]bool{}
		for i, d := range r.GetDocuments() {
			if d.GetName() == "" || seen[d.GetName()] {
				return fmt.Errorf("documents[%d].name: missing or repeated", i)
			}
			seen[d.GetName()] = true
			if len(d.GetYaml()) == 0 || len(d.GetYaml()) > maxDocBytes {
				return fmt.Errorf("documents[%d] (%s): want 1 byte to %d bytes of YAML", i, d.GetName(), maxDocBytes)
			}
		}
		if len(r.GetComment()) > maxTextLen {
			return fmt.Errorf("comment: longer than %d bytes", maxTextLen)
		}
	case *interlockv1.ApprovalRequestRequest:
		id := r.GetRequester()
		if id.GetSubject() == "" && id.GetObjectId() == "" && id.GetAppId() == "" {
			return fmt.Errorf("requester: needs a subject, object id or app id")
		}
		if len(r.GetFingerprint()) != sha256.Size {
			return fmt.Errorf("fingerprint: want %d bytes (SHA-256)", sha256.Size)
		}
		if len(r.GetApprovers()) > maxApprovers {
			return fmt.Errorf("approvers: more than %d", maxApprovers)
		}
		if r.GetMinApprovals() > maxApprovers {
			return fmt.Errorf("min_approvals: more than %d", maxApprovers)
		}
		if r.GetTimeout().AsDuration() < 0 || r.GetGrantFor().AsDuration() < 0 {
			return fmt.Errorf("timeout and grant_for must not be negative")
		}
		for _, s := range []string{r.GetSummary(), r.GetReason(), r.GetOperation(), r.GetRule(), r.GetTarget()} {
			if len(s) > maxTextLen {
				return fmt.Errorf("a text field is longer than %d bytes", maxTextLen)
			}
		}
	case *interlockv1.GetApprovalRequest:
		if r.GetId() == "" {
			return fmt.Errorf("id is required")
		}
	case *interlockv1.DecideRequest:
		if r.GetId() == "" {
			return fmt.Errorf("id is required")
		}
		if len(r.GetComment()) > maxTextLen {
			return fmt.Errorf("comment: longer than %d bytes", maxTextLen)
		}
	case *interlockv1.ListApprovalsRequest:
		if r.GetPageSize() > maxPageSize {
			return fmt.Errorf("page_size: at most %d", maxPageSize)
		}
	case *interlockv1.ListSessionsRequest:
		if r.GetPageSize() > maxPageSize {
			return fmt.Errorf("page_size: at most %d", maxPageSize)
		}
	case *interlockv1.GetSessionRequest:
		if r.GetSessionId() == "" {
			return fmt.Errorf("session_id is required")
		}
	case *interlockv1.ReadSessionRequest:
		if r.GetSessionId() == "" {
			return fmt.Errorf("session_id is required")
		}
	case *interlockv1.GetConsistencyProofRequest:
		if r.GetSecondSize() != 0 && r.GetFirstSize() > r.GetSecondSize() {
			return fmt.Errorf("first_size: after second_size")
		}
	case *interlockv1.UploadChunk:
		if r.GetSeq() == 0 {
			return fmt.Errorf("seq: chunks are numbered from 1")
		}
		if len(r.GetSha256()) != sha256.Size {
			return fmt.Errorf("sha256: want %d bytes", sha256.Size)
		}
		if len(r.GetZstd()) == 0 {
			return fmt.Errorf("zstd: empty chunk")
		}
	}
	return nil
}
