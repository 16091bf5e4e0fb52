// SPDX-License-Identifier: Apache-2.0

// Server: configuration, the gRPC server, its lifetime.

package control

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/interlockhq/interlock/control/auditlog"
	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/pki"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Config is what a Server is made of. It must not change once passed to New.
type Config struct {
	// Store keeps all state. Required.
	Store Store
	// Authority is the control CA and workload root. Required.
	Authority *pki.Authority
	// ServerNames are the DNS names and IP addresses the server
	// certificate is valid for. Required.
	ServerNames []string
	// Validate checks policy documents on push (the policy engine's
	// loader). An error implementing ProblemLister lists the problems.
	// Required: without it no bundle could be trusted.
	Validate func(docs []*interlockv1.PolicyDocument) error
	// OIDC verifies people's bearer tokens; nil accepts none.
	OIDC *auth.OIDC
	// AdminToken is the local admin credential; "" accepts none.
	AdminToken string
	// Logger receives call logs and errors; nil discards them.
	Logger *slog.Logger
	// ExpireEvery is how often pending approvals are checked for expiry;
	// 0 means every second.
	ExpireEvery time.Duration
	// DefaultApprovalTimeout applies to requests without a timeout; 0
	// means 10 minutes. MaxApprovalTimeout caps them; 0 means 24 hours.
	DefaultApprovalTimeout time.Duration
	MaxApprovalTimeout     time.Duration
	// MaxChunkBytes caps an uploaded chunk (compressed); 0 means 16 MiB.
	MaxChunkBytes int
	// MaxBatchBytes caps a chunk's decompressed size; 0 means 64 MiB.
	MaxBatchBytes uint64
	// WatchBuffer is how many approval changes a watcher may lag behind
	// before it is cut off; 0 means 1024.
	WatchBuffer int
	// LogOrigin names the audit log in its checkpoints and is the name of
	// its key (Authority.LogKey); "" means auditlog.DefaultOrigin of the
	// key, which never changes while the key does not.
	LogOrigin string
}

// ProblemLister is implemented by validation errors that name the
// problems in the documents; Push returns them as PolicyProblems details.
type ProblemLister interface {
	PolicyProblems() []*interlockv1.PolicyProblem
}

// Server is the control plane.
type Server struct {
	cfg       Config
	log       *slog.Logger
	grpc      *grpc.Server
	tlsConfig *tls.Config
	dec       *zstd.Decoder
	policies  *signal
	approvals *approvalHub
	// signer signs checkpoints and evidence manifests with the log key.
	signer *auditlog.Signer
	// cpMu makes one caller at a time sign a new checkpoint.
	cpMu sync.Mutex

	// ctx ends when Close is called; watch streams and the expiry loop
	// stop on it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the expiry loop
	once   sync.Once
}

// New checks cfg and builds a Server; it listens nowhere until Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Authority == nil || cfg.Validate == nil || len(cfg.ServerNames) == 0 {
		return nil, fmt.Errorf("control: Config needs Store, Authority, ServerNames and Validate")
	}
	if cfg.ExpireEvery <= 0 {
		cfg.ExpireEvery = time.Second
	}
	if cfg.DefaultApprovalTimeout <= 0 {
		cfg.DefaultApprovalTimeout = 10 * time.Minute
	}
	if cfg.MaxApprovalTimeout <= 0 {
		cfg.MaxApprovalTimeout = 24 * time.Hour
	}
	if cfg.MaxChunkBytes <= 0 {
		cfg.MaxChunkBytes = 16 << 20
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = 64 << 20
	}
	if cfg.WatchBuffer <= 0 {
		cfg.WatchBuffer = 1024
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cert, err := cfg.Authority.ServerCert(cfg.ServerNames...)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	origin := cfg.LogOrigin
	if origin == "" {
		origin = auditlog.DefaultOrigin(cfg.Authority.LogKey().Public().(ed25519.PublicKey))
	}
	signer, err := auditlog.NewSigner(origin, cfg.Authority.LogKey())
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(cfg.MaxBatchBytes), zstd.WithDecoderMaxWindow(min(cfg.MaxBatchBytes, zstd.MaxWindowSize)))
	if err != nil {
		return nil, fmt.Errorf("control: zstd: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		log:       log,
		dec:       dec,
		signer:    signer,
		policies:  newSignal(),
		approvals: newApprovalHub(cfg.WatchBuffer),
		tlsConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    cfg.Authority.ControlPool(),
			MinVersion:   tls.VersionTLS13,
		},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	authn := &auth.Authenticator{
		OIDC:       cfg.OIDC,
		AdminToken: cfg.AdminToken,
		KnownNode: func(ctx context.Context, id string) error {
			_, err := cfg.Store.Node(ctx, id)
			return err
		},
	}
	unary, stream := interceptors(log, authn)
	s.grpc = grpc.NewServer(
		grpc.Creds(credentials.NewTLS(s.tlsConfig)),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.MaxRecvMsgSize(cfg.MaxChunkBytes+64<<10),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	interlockv1.RegisterNodeServiceServer(s.grpc, &nodeService{s: s})
	interlockv1.RegisterPolicyServiceServer(s.grpc, &policyService{s: s})
	interlockv1.RegisterApprovalServiceServer(s.grpc, &approvalService{s: s})
	interlockv1.RegisterSessionServiceServer(s.grpc, &sessionService{s: s})
	interlockv1.RegisterAuditServiceServer(s.grpc, &auditService{s: s})
	return s, nil
}

// ServiceInfo lists the registered services and their methods.
func (s *Server) ServiceInfo() map[string]grpc.ServiceInfo { return s.grpc.GetServiceInfo() }

// Serve serves on lis until ctx ends or Close is called; then it returns
// nil. It closes lis.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.expireLoop()
	}()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			s.stop()
		case <-s.ctx.Done():
		}
	}()
	err := s.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("control: serve: %w", err)
	}
	return nil
}

// Close stops the server: watch streams end, calls in flight get five
// seconds to finish. A second call returns net.ErrClosed.
func (s *Server) Close() error {
	err := net.ErrClosed
	s.once.Do(func() {
		s.stopGRPC()
		s.wg.Wait()
		s.dec.Close()
		err = nil
	})
	return err
}

// stop is Close without waiting for Serve's helpers (it runs in one).
func (s *Server) stop() { s.stopGRPC() }

func (s *Server) stopGRPC() {
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.grpc.Stop()
		<-done
	}
}

// expireLoop moves pending approvals past their expiry to EXPIRED.
func (s *Server) expireLoop() {
	t := time.NewTicker(s.cfg.ExpireEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		expired, err := s.cfg.Store.ExpireApprovals(ctx, time.Now(), "control")
		cancel()
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Error("expire approvals", "err", err)
			}
			continue
		}
		for _, a := range expired {
			s.approvals.publish(a)
		}
	}
}

// audit appends an audit record, logging (not failing on) an error: the
// step it records has happened.
func (s *Server) audit(ctx context.Context, r store.AuditRecord) {
	if err := s.cfg.Store.AppendAudit(ctx, r); err != nil {
		s.log.Error("append audit record", "action", r.Action, "object", r.Object, "err", err)
	}
}
