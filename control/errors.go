// SPDX-License-Identifier: Apache-2.0

// Mapping store errors to gRPC status codes.

package control

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/merkle"
	"github.com/interlockhq/interlock/control/store"
)

// statusOf turns an error from the store or a handler into a status error.
// Errors that already are status errors pass through; unknown ones are
// logged and answered INTERNAL without detail.
func (s *Server) statusOf(what string, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return status.Errorf(codes.NotFound, "%s not found", what)
	case errors.Is(err, store.ErrVersionConflict):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, store.ErrBadCursor):
		return status.Error(codes.InvalidArgument, "invalid page_token")
	case errors.Is(err, store.ErrTokenInvalid):
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.Is(err, merkle.ErrSize):
		return status.Errorf(codes.OutOfRange, "%s: %v", what, err)
	}
	s.log.Error(what, "err", err)
	return status.Error(codes.Internal, "internal error")
}

// callerOf returns the authenticated caller; the interceptor puts one in
// the context of every method that is not public.
func callerOf(ctx context.Context) (*auth.Caller, error) {
	c, ok := auth.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no authenticated caller")
	}
	return c, nil
}
