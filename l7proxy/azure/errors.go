// SPDX-License-Identifier: Apache-2.0

// The errors Parse returns: sentinels to branch on and ParseError, which
// carries the request it could not name.

package azure

import (
	"errors"
	"strconv"
)

var (
	// ErrUnknownHost: the host is not an Azure endpoint this package
	// knows (Resource Manager, Key Vault, Blob).
	ErrUnknownHost = errors.New("azure: unknown host")
	// ErrUnknownOperation: the host is known but the method, path and
	// query do not name an operation this package knows how to name.
	ErrUnknownOperation = errors.New("azure: unknown operation")
	// ErrInvalidRequest: the path or query is malformed or hostile: too
	// long, too many segments, bad percent-encoding, an encoded '/', a
	// control character, a dot segment, a repeated parameter, or a name
	// that Azure would reject.
	ErrInvalidRequest = errors.New("azure: invalid request")
)

// maxErrorPath is how much of the path a ParseError keeps.
const maxErrorPath = 256

// ParseError is the error Parse returns. It wraps one of ErrUnknownHost,
// ErrUnknownOperation or ErrInvalidRequest, so errors.Is works with them.
type ParseError struct {
	Method string
	Host   string
	// Path is the path as given, cut to 256 bytes.
	Path string
	// Reason says what was wrong, e.g. "encoded slash in segment 3".
	Reason string
	// Err is the sentinel.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	return e.Err.Error() + ": " + e.Reason + " (" + e.Method + " " + e.Host + " " + strconv.Quote(e.Path) + ")"
}

// Unwrap returns the sentinel.
func (e *ParseError) Unwrap() error { return e.Err }

// failure is the error of one parse step before Parse adds the request to
// it; it does not allocate for constant reasons.
type failure struct {
	err    error
	reason string
}

func invalid(reason string) *failure { return &failure{ErrInvalidRequest, reason} }
func unknown(reason string) *failure { return &failure{ErrUnknownOperation, reason} }

// wrap turns a failure into the ParseError for the request.
func (f *failure) wrap(method, host, path string) *ParseError {
	if len(path) > maxErrorPath {
		path = path[:maxErrorPath]
	}
	if len(host) > maxErrorPath {
		host = host[:maxErrorPath]
	}
	if len(method) > 16 {
		method = method[:16]
	}
	return &ParseError{Method: method, Host: host, Path: path, Reason: f.reason, Err: f.err}
}
