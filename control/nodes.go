// SPDX-License-Identifier: Apache-2.0

// NodeService: enrolment with a one-time bootstrap token, and the node list.

package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// BootstrapTokenPrefix starts every bootstrap token.
const BootstrapTokenPrefix = "ilbt_"

// TokenStore is where bootstrap tokens go.
type TokenStore interface {
	AddToken(ctx context.Context, t store.Token) error
}

// NewBootstrapToken makes a one-time bootstrap token valid for ttl, stores
// only its SHA-256, and returns the token, which is shown once.
func NewBootstrapToken(ctx context.Context, st TokenStore, ttl time.Duration, comment string) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("control: bootstrap token: ttl must be positive")
	}
	var b [32]byte
	rand.Read(b[:])
	tok := BootstrapTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := time.Now()
	if err := st.AddToken(ctx, store.Token{Hash: hashToken(tok), Comment: comment, Created: now, Expires: now.Add(ttl)}); err != nil {
		return "", fmt.Errorf("control: bootstrap token: %w", err)
	}
	return tok, nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

type nodeService struct {
	interlockv1.UnimplementedNodeServiceServer
	s *Server
}

func (n *nodeService) Enroll(ctx context.Context, req *interlockv1.EnrollRequest) (*interlockv1.EnrollResponse, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, n.s.statusOf("node id", err)
	}
	nodeID := id.String()
	a := n.s.cfg.Authority
	client, err := a.NodeClientCert(nodeID, req.GetClientCsr())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "client_csr: %v", err)
	}
	ca, err := a.NodeCA(nodeID, req.GetNodeName(), req.GetCaCsr())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "ca_csr: %v", err)
	}
	now := time.Now()
	node := store.Node{ID: nodeID, Name: req.GetNodeName(), Enrolled: now, LastSeen: now}
	if err := n.s.cfg.Store.Enroll(ctx, hashToken(req.GetBootstrapToken()), now, node); err != nil {
		return nil, n.s.statusOf("enroll", err)
	}
	n.s.audit(ctx, store.AuditRecord{Time: now, Actor: "node:" + nodeID, Action: "node.enroll", Object: nodeID, Detail: req.GetNodeName()})
	return &interlockv1.EnrollResponse{
		NodeId:     nodeID,
		ClientCert: client,
		NodeCa:     ca,
		ControlCa:  a.ControlCAPEM(),
		WorkloadCa: a.WorkloadCAPEM(),
	}, nil
}

func (n *nodeService) List(ctx context.Context, _ *interlockv1.ListNodesRequest) (*interlockv1.ListNodesResponse, error) {
	nodes, err := n.s.cfg.Store.Nodes(ctx)
	if err != nil {
		return nil, n.s.statusOf("nodes", err)
	}
	out := &interlockv1.ListNodesResponse{}
	for _, nd := range nodes {
		out.Nodes = append(out.Nodes, &interlockv1.Node{
			NodeId:        nd.ID,
			Name:          nd.Name,
			Enrolled:      timestamppb.New(nd.Enrolled),
			LastSeen:      timestamppb.New(nd.LastSeen),
			PolicyVersion: nd.PolicyVersion,
		})
	}
	return out, nil
}
