// SPDX-License-Identifier: Apache-2.0

// The interceptor chain: logging, recovery, authentication, validation.

package control

import (
	"context"
	"log/slog"
	"runtime/debug"

	grpcauth "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/control/auth"
)

// slogLogger adapts slog to go-grpc-middleware's logging.
func slogLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// interceptors returns the chains, outermost first: logging sees every
// call including refused ones; recovery turns a panic into INTERNAL;
// authentication puts the caller in the context; validation checks
// requests before any handler sees them.
func interceptors(log *slog.Logger, a *auth.Authenticator) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	lg := slogLogger(log)
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithLevels(codeLevel)}
	rec := []recovery.Option{recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in handler", "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})}
	unary := []grpc.UnaryServerInterceptor{
		logging.UnaryServerInterceptor(lg, logOpts...),
		recovery.UnaryServerInterceptor(rec...),
		grpcauth.UnaryServerInterceptor(a.AuthFunc),
		validateUnary,
	}
	stream := []grpc.StreamServerInterceptor{
		logging.StreamServerInterceptor(lg, logOpts...),
		recovery.StreamServerInterceptor(rec...),
		grpcauth.StreamServerInterceptor(a.AuthFunc),
		validateStream,
	}
	return unary, stream
}

// codeLevel is the level a finished call is logged at: as
// go-grpc-middleware's default, but Unavailable is INFO — this server
// answers it only to end a watch it wants the client to resume (the
// server stopping, a watcher fallen behind), which is no warning.
func codeLevel(c codes.Code) logging.Level {
	if c == codes.Unavailable {
		return logging.LevelInfo
	}
	return logging.DefaultServerCodeToLevel(c)
}

func validateUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func validateStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &validatingStream{ServerStream: ss})
}

// validatingStream validates every message the client sends.
type validatingStream struct{ grpc.ServerStream }

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return validate(m)
}
