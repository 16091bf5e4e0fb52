// SPDX-License-Identifier: Apache-2.0

// Parse: from a request's method, host, path and query to the Operation
// it performs.

package azure

import "net/http"

// Parse names the Azure operation of a request. method is the HTTP method
// as sent (case-sensitive), host the Host header or :authority (a port
// and trailing dot are ignored), path the path as sent on the wire,
// still percent-encoded (http.Request.URL.EscapedPath()), and rawQuery
// the query without '?' (URL.RawQuery).
//
// Errors are *ParseError wrapping ErrUnknownHost, ErrUnknownOperation or
// ErrInvalidRequest; the returned Operation is then zero. Parse never
// guesses: a request it cannot name is an error, and the caller must
// refuse it or pass it on uninspected, never treat it as allowed.
//
// Parse is safe for concurrent use and keeps nothing.
func Parse(method, host, path, rawQuery string) (Operation, error) {
	var op Operation
	if f := parse(&op, method, host, path, rawQuery); f != nil {
		return Operation{}, f.wrap(method, host, path)
	}
	return op, nil
}

// ParseRequest is Parse for an *http.Request (server side: r.Host, and
// the path as the client sent it).
func ParseRequest(r *http.Request) (Operation, error) {
	return Parse(r.Method, r.Host, r.URL.EscapedPath(), r.URL.RawQuery)
}

func parse(op *Operation, method, host, path, rawQuery string) *failure {
	plane, account, f := classifyHost(host)
	if f != nil {
		return f
	}
	verb, f := verbOf(method)
	if f != nil {
		return f
	}
	var q query
	if f := parseQuery(rawQuery, &q); f != nil {
		return f
	}
	escaped, f := checkRaw(path)
	if f != nil {
		return f
	}
	op.Plane = plane
	op.Account = account
	switch plane {
	case PlaneARM:
		op.APIVersion = q.apiVersion
		return parseARM(op, verb, path, escaped)
	case PlaneKeyVault:
		op.APIVersion = q.apiVersion
		return parseKeyVault(op, method, path, escaped)
	default:
		return parseBlob(op, method, path, escaped, &q)
	}
}

// verbOf maps an HTTP method to the RBAC verb: GET and HEAD read, PUT and
// PATCH write, DELETE delete; POST is an action, named by the path (""
// here). Other methods name no operation.
func verbOf(method string) (string, *failure) {
	switch method {
	case http.MethodGet, http.MethodHead:
		return VerbRead, nil
	case http.MethodPut, http.MethodPatch:
		return VerbWrite, nil
	case http.MethodDelete:
		return VerbDelete, nil
	case http.MethodPost:
		return "", nil
	}
	return "", unknown("method names no operation")
}
