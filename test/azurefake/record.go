// SPDX-License-Identifier: Apache-2.0

// The record of served requests, for tests to assert on.

package azurefake

import (
	"maps"
	"net/http"
	"strings"
	"time"
)

// Request is one request the server answered. Bodies are never recorded.
type Request struct {
	Time   time.Time
	Method string
	Proto  string // "HTTP/1.1" or "HTTP/2.0"
	Host   string // lower case, without port
	Path   string
	Query  string // raw query
	Status int    // status code sent
	// Claims of the bearer token that was verified, nil if none was.
	Claims map[string]any
	// AuthError is the error code of an authentication failure, e.g.
	// "ExpiredAuthenticationToken" or "invalid_client"; empty if none.
	AuthError string
	// ClientID, Scope and Credential ("secret" or "assertion") describe a
	// token request; empty for other requests.
	ClientID, Scope, Credential string
}

// Requests returns a copy of every request served so far, oldest first.
func (s *Server) Requests() []Request {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Claims = maps.Clone(r.Claims)
		out[i] = r
	}
	return out
}

// Count returns how many recorded requests had this method and a path
// containing substr (case-insensitive), e.g. Count("GET", "/operationresults/").
func (s *Server) Count(method, substr string) int {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	n := 0
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && strings.Contains(strings.ToLower(r.Path), strings.ToLower(substr)) {
			n++
		}
	}
	return n
}

func (s *Server) record(r Request) {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.requests = append(s.requests, r)
}

// statusWriter remembers the status code a handler sent.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
