// SPDX-License-Identifier: Apache-2.0

// One request: operation, identity, decision, approval, credential,
// upstream, masked response, and the events that record it.

package https

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Error codes Interlock answers with, in ARM's error format.
const (
	CodeDisallowed      = "RequestDisallowedByInterlock"
	CodeApprovalPending = "ApprovalPending"
	CodeApprovalDenied  = "ApprovalDenied"
	CodeAuthFailed      = "AuthenticationFailed"
	CodeUpstream        = "InterlockUpstreamError"
	CodeMaskFailed      = "InterlockMaskingFailed"
)

// reasonHeader is where an agent may say why it makes a request; it is
// shown to approvers.
const reasonHeader = "X-Interlock-Reason"

// exchange is one request being served.
type exchange struct {
	h     *Handler
	c     *conn
	id    uint64
	start time.Time
	// proxyTime accumulates time spent in Interlock (not upstream, not
	// approval holds); hold is the time held for approval.
	proxyTime, hold time.Duration
}

func (h *Handler) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c, ok := r.Context().Value(connKey{}).(*conn)
	if !ok {
		http.Error(w, "interlock: connection state lost", http.StatusInternalServerError)
		return
	}
	h.exchange(c, w, r)
}

// exchange serves one request of c.
func (h *Handler) exchange(c *conn, w http.ResponseWriter, r *http.Request) {
	c.exchanges.Add(1)
	x := &exchange{h: h, c: c, id: c.sess.NewExchange(), start: time.Now()}
	x.serve(w, r)
}

func (x *exchange) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	h, c := x.h, x.c
	host := strings.ToLower(r.Host)
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh // Key Vault's nextLinks carry :443
	}

	req := policy.Request{
		Workload: policy.Workload{
			Kind: c.l7.Workload.Kind, Name: c.l7.Workload.Name, Namespace: c.l7.Workload.Namespace,
			ServiceAccount: c.l7.Workload.ServiceAccount, Unit: c.l7.Workload.Unit, Cgroup: c.l7.Workload.CgroupPath,
			PID: int64(c.l7.Original.PID), UID: int64(c.l7.Original.UID),
		},
		Target: policy.TargetInfo{Name: c.target.Name, Protocol: policy.ProtocolHTTPS, Host: c.sni, Port: int64(c.l7.Original.Dst.Port())},
		HTTP:   policy.HTTP{Protocol: "https", Method: r.Method, Host: host, Path: r.URL.Path, Query: firstValues(r.URL.Query()), Headers: headerMap(r.Header)},
	}
	if h.cfg.Operation != nil {
		if op, err := h.cfg.Operation(r.Method, host, r.URL.EscapedPath(), r.URL.RawQuery); err == nil {
			req.ARM = op
		}
	}
	recReq := &interlockv1.HTTPRequest{
		ExchangeId: x.id, Method: r.Method, Host: host, Path: r.URL.Path, Query: r.URL.RawQuery, Proto: r.Proto,
		Headers: h.redac.Headers(r.Header), Azure: azureOp(req.ARM),
	}

	// Identity. azsecrets' first request carries no token on purpose: it
	// expects Key Vault's challenge, which only the server can give.
	token, hasToken := bearer(r)
	challenge := !hasToken && r.ContentLength <= 0 && strings.HasSuffix(host, ".vault.azure.net")
	if !hasToken && !challenge {
		x.refuse(ctx, w, recReq, http.StatusUnauthorized, CodeAuthFailed,
			"Authentication failed. The 'Authorization' header is missing.", nil)
		return
	}
	if hasToken {
		id, err := h.cfg.Identify(ctx, c.bundle, token)
		if err != nil {
			var ae *AuthError
			if !errors.As(err, &ae) {
				ae = &AuthError{Code: "InvalidAuthenticationToken", Message: "The access token could not be verified."}
			}
			st := ae.Status
			if st == 0 {
				st = http.StatusUnauthorized
			}
			x.refuse(ctx, w, recReq, st, ae.Code, ae.Message, nil)
			return
		}
		req.Identity = id
		recReq.Identity = record.Identity(id)
	}

	// Policy.
	var d policy.Decision
	failOpen := "" // why a request passed that policy could not decide
	if challenge {
		d = policy.Decision{Action: policy.Allow, Message: "Key Vault authentication challenge (no token, no body): forwarded"}
	} else {
		var err error
		d, err = c.bundle.Evaluate(ctx, &req)
		if err != nil {
			// Evaluate's decision denies on errors: fail closed, unless
			// the target says failMode: open — then the request passes,
			// and the recording says why.
			d.Message = "policy could not be evaluated: " + err.Error()
			if c.target.FailOpen {
				d.Action = policy.Allow
				failOpen = "failMode open: " + d.Message
			}
		}
	}
	inject := c.target.Credential.Mode == policy.CredentialInject && hasToken
	recReq.CredentialInjected = inject

	// The request is durable in the spool before anything goes upstream:
	// it is staged here and written with its decision, in one append. Its
	// body is recorded with the response, once it has streamed.
	if err := c.sess.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpRequest{HttpRequest: recReq}}); err != nil {
		x.fail(w, http.StatusServiceUnavailable, CodeUpstream, "recording failed: refused (nothing unrecorded passes)")
		return
	}
	recDec := &interlockv1.Decision{ExchangeId: x.id, Action: record.Action(d.Action), Outcome: record.Action(d.Action), Message: d.Message, Matched: record.RuleNames(d.Matched), Reason: failOpen}
	if d.Rule != nil {
		recDec.Rule = d.Rule.Name
	}

	defer func() { h.cfg.Observer.Decision(c.target.Name, recDec.Outcome.String(), recDec.Rule) }()
	switch d.Action {
	case policy.Deny:
		recDec.ErrorCode = CodeDisallowed
		_ = c.sess.Decision(ctx, recDec)
		x.respondError(ctx, w, http.StatusForbidden, CodeDisallowed, denyMessage(d), nil)
		return
	case policy.Approve:
		res, ok := x.approve(ctx, w, r, &req, &d, recDec)
		if !ok {
			return
		}
		recDec.ApprovalId = res.ID
	}
	if err := c.sess.Decision(ctx, recDec); err != nil {
		x.fail(w, http.StatusServiceUnavailable, CodeUpstream, "recording failed: refused (nothing unrecorded passes)")
		return
	}

	// Upstream.
	// The upstream request is the workload's, changed in place: nothing
	// reads r's URL or headers after this, and a deep copy (r.Clone) per
	// request costs more than the rest of the header handling.
	out := r.WithContext(ctx)
	out.RequestURI = ""
	out.URL.Scheme = "https"
	out.URL.Host = r.Host
	out.Host = r.Host
	removeHopHeaders(out.Header)
	if inject {
		if h.cfg.Credentials == nil {
			x.respondError(ctx, w, http.StatusForbidden, CodeDisallowed, "target "+c.target.Name+" injects the node's credential, but the node has none", nil)
			return
		}
		t, err := h.cfg.Credentials(ctx, c.target, host)
		if err != nil {
			h.log.Error("node credential", "target", c.target.Name, "host", host, "err", err)
			x.respondError(ctx, w, http.StatusBadGateway, CodeUpstream, "the node could not get its own credential for "+host, nil)
			return
		}
		out.Header.Set("Authorization", "Bearer "+t)
	}
	reqBody := record.NewBody(h.cfg.RecordCap)
	switch {
	case r.ContentLength == 0:
		// No body. HTTP/2's server gives every request a Body; sent on,
		// it would cost the upstream stream an empty DATA frame (and a
		// write) after its headers.
		out.Body = http.NoBody
	case r.Body != nil && r.Body != http.NoBody:
		out.Body = &teeBody{r: r.Body, w: reqBody.Original(), m: reqBody.Masked(), n: &c.fromCli}
	}
	x.proxyTime += time.Since(x.start)
	upStart := time.Now()
	resp, err := c.upstream.RoundTrip(out)
	upLatency := time.Since(upStart)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		x.respondError(ctx, w, http.StatusBadGateway, CodeUpstream, "upstream "+host+": "+err.Error(), nil)
		return
	}
	defer resp.Body.Close()
	x.respond(ctx, w, resp, &d, upLatency, reqBody)
}

// approve holds the request for approval. It returns false when it has
// answered the workload itself.
func (x *exchange) approve(ctx context.Context, w http.ResponseWriter, r *http.Request, req *policy.Request, d *policy.Decision, recDec *interlockv1.Decision) (ApprovalResult, bool) {
	h, c := x.h, x.c
	if h.cfg.Approvals == nil {
		recDec.Outcome = interlockv1.Action_ACTION_DENY
		recDec.ErrorCode = CodeApprovalDenied
		recDec.Reason = "no approval service on this node"
		_ = c.sess.Decision(ctx, recDec)
		x.respondError(ctx, w, http.StatusForbidden, CodeApprovalDenied, denyMessage(*d)+" (needs approval, and this node cannot ask for it)", nil)
		return ApprovalResult{}, false
	}
	// The approval covers the exact request, body included: read it now
	// (bounded; ARM bodies are small) and send the same bytes upstream.
	body, err := readBounded(r.Body, maxApprovalBody)
	if err != nil {
		recDec.Outcome = interlockv1.Action_ACTION_DENY
		recDec.ErrorCode = CodeDisallowed
		recDec.Reason = err.Error()
		_ = c.sess.Decision(ctx, recDec)
		x.respondError(ctx, w, http.StatusForbidden, CodeDisallowed, recDec.Rule+": "+err.Error(), nil)
		return ApprovalResult{}, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	fp := fingerprint(r, body)
	op := req.ARM.Operation
	if op == "" {
		op = r.Method + " " + req.HTTP.Host + req.HTTP.Path
	}
	holdStart := time.Now()
	res, err := h.cfg.Approvals.Approve(ctx, ApprovalRequest{
		Identity: req.Identity, Workload: c.l7.Workload, Target: c.target.Name, Operation: op,
		Summary: r.Method + " " + r.Host + r.URL.RequestURI(), Rule: recDec.Rule, Fingerprint: fp,
		Reason: r.Header.Get(reasonHeader), Approval: d.Approval, SessionID: c.sess.ID(), ExchangeID: x.id,
	})
	x.hold = time.Since(holdStart)
	h.cfg.Observer.ApprovalWait(res.State, x.hold)
	if err != nil {
		recDec.Outcome = interlockv1.Action_ACTION_DENY
		recDec.ErrorCode = CodeApprovalPending
		recDec.Reason = "approval service: " + err.Error()
		_ = c.sess.Decision(ctx, recDec)
		x.respondError(ctx, w, http.StatusForbidden, CodeApprovalPending, "approval could not be requested: "+err.Error(), nil)
		return res, false
	}
	_ = c.sess.Approval(ctx, &interlockv1.ApprovalEvent{
		ExchangeId: x.id, ApprovalId: res.ID, State: res.State, Approvers: res.Approvers, Comment: res.Comment, GrantUsed: res.GrantUsed,
	})
	switch res.State {
	case interlockv1.ApprovalState_APPROVAL_STATE_APPROVED:
		recDec.Outcome = interlockv1.Action_ACTION_ALLOW
		return res, true
	case interlockv1.ApprovalState_APPROVAL_STATE_DENIED, interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED:
		recDec.Outcome = interlockv1.Action_ACTION_DENY
		recDec.ErrorCode = CodeApprovalDenied
		recDec.ApprovalId = res.ID
		_ = c.sess.Decision(ctx, recDec)
		msg := fmt.Sprintf("%s: approval %s was denied by %s", recDec.Rule, res.ID, strings.Join(res.Approvers, ", "))
		if res.State == interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED {
			msg = fmt.Sprintf("%s: approval %s expired without a decision", recDec.Rule, res.ID)
		}
		if res.Comment != "" {
			msg += " (" + res.Comment + ")"
		}
		x.respondError(ctx, w, http.StatusForbidden, CodeApprovalDenied, msg, nil)
	default:
		recDec.Outcome = interlockv1.Action_ACTION_DENY
		recDec.ErrorCode = CodeApprovalPending
		recDec.ApprovalId = res.ID
		_ = c.sess.Decision(ctx, recDec)
		x.respondError(ctx, w, http.StatusForbidden, CodeApprovalPending,
			fmt.Sprintf("%s: approval %s is pending; retry the same request once it is approved", recDec.Rule, res.ID), nil)
	}
	return res, false
}

// respond sends the upstream response to the workload, masked when the
// decision says so, and records it.
func (x *exchange) respond(ctx context.Context, w http.ResponseWriter, resp *http.Response, d *policy.Decision, upLatency time.Duration, reqBody *record.Body) {
	h, c := x.h, x.c
	start := time.Now()
	rec := record.NewBody(h.cfg.RecordCap)
	needMask := len(d.Masks) > 0 || len(d.Detectors) > 0
	hdr := w.Header()
	for k, vs := range resp.Header {
		hdr[k] = vs
	}
	removeHopHeaders(hdr)
	var masks []*interlockv1.MaskApplied
	aborted := "" // why the workload gets less than the whole body
	if needMask && resp.Body != http.NoBody && resp.StatusCode != http.StatusNoContent && resp.Request.Method != http.MethodHead {
		if h.cfg.Mask == nil {
			x.respondError(ctx, w, http.StatusBadGateway, CodeMaskFailed, "a mask rule applies to this response but the node cannot mask", nil)
			return
		}
		// The masked body has another length and no encoding, and the
		// ETag describes the unmasked representation.
		hdr.Del("Content-Length")
		hdr.Del("Content-Encoding")
		hdr.Del("Etag")
		hdr.Del("Content-Md5")
		out := &startedWriter{w: w, status: resp.StatusCode}
		var err error
		masks, err = h.cfg.Mask(io.MultiWriter(out, rec.Masked()), io.TeeReader(resp.Body, rec.Original()),
			resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"), d)
		if err != nil {
			if !out.started {
				x.respondError(ctx, w, http.StatusBadGateway, CodeMaskFailed, "the response could not be masked as policy requires: "+err.Error(), nil)
				return
			}
			// Part of the masked body is out: the rest must not follow
			// unmasked, and the client must not take the part for the
			// whole. The response is recorded, then aborted (below).
			aborted = "masking failed after " + strconv.FormatInt(out.n, 10) + " bytes: " + err.Error()
		} else if !out.started {
			w.WriteHeader(resp.StatusCode)
		}
		c.toCli.Add(out.n)
	} else {
		w.WriteHeader(resp.StatusCode)
		buf := h.copyBuf()
		n, err := io.CopyBuffer(w, io.TeeReader(resp.Body, io.MultiWriter(rec.Original(), rec.Masked())), *buf)
		h.bufs.Put(buf)
		c.toCli.Add(n)
		if err != nil {
			// The workload must not take what it got for the whole body
			// (an HTTP/1.1 chunked body would otherwise end cleanly).
			aborted = "the body was cut off after " + strconv.FormatInt(n, 10) + " bytes: " + err.Error()
		}
	}
	x.proxyTime += time.Since(start)
	payload := payloadOf(rec, resp.Header.Get("Content-Type"))
	if payload != nil {
		payload.ContentEncoding = resp.Header.Get("Content-Encoding")
		payload.Masks = masks
	}
	h.cfg.Observer.Masked(masks)
	h.cfg.Observer.Latency(c.target.Name, upLatency, x.proxyTime-x.hold)
	x.recordResponse(&interlockv1.HTTPResponse{
		ExchangeId: x.id, Status: uint32(resp.StatusCode), Headers: h.redac.Headers(resp.Header), Body: payload,
		UpstreamLatency: durationpb.New(upLatency), ProxyLatency: durationpb.New(x.proxyTime - x.hold),
		ApprovalHold: durationpb.New(x.hold), RequestBody: payloadOf(reqBody, ""), Aborted: aborted,
	})
	if aborted != "" {
		h.log.Warn("response aborted", "host", resp.Request.Host, "why", aborted)
		panic(http.ErrAbortHandler) // HTTP/1.1: close; HTTP/2: reset the stream
	}
}

// recordResponse records the response once it is on its way to the
// workload. It is staged, and goes to the sink with the connection's next
// decision (on HTTP/2, any stream's), in the same write, or within
// record.SendDelay if none comes. Either way the session's next event
// waits until it is durable.
func (x *exchange) recordResponse(r *interlockv1.HTTPResponse) {
	if err := x.c.sess.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpResponse{HttpResponse: r}}); err != nil {
		return // the session failed: its next event and its close say so
	}
	x.c.sess.SendWithin(record.SendDelay)
}

// refuse records and answers a request refused before policy (no or bad
// credential).
func (x *exchange) refuse(ctx context.Context, w http.ResponseWriter, recReq *interlockv1.HTTPRequest, status int, code, msg string, hdr http.Header) {
	x.h.cfg.Observer.Decision(x.c.target.Name, interlockv1.Action_ACTION_DENY.String(), "")
	_ = x.c.sess.Request(ctx, recReq)
	_ = x.c.sess.Decision(ctx, &interlockv1.Decision{
		ExchangeId: x.id, Action: interlockv1.Action_ACTION_DENY, Outcome: interlockv1.Action_ACTION_DENY,
		ErrorCode: code, Reason: msg,
	})
	if status == http.StatusUnauthorized {
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set("WWW-Authenticate", `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="`+strings.ReplaceAll(msg, `"`, "'")+`"`)
	}
	x.respondError(ctx, w, status, code, msg, hdr)
}

// respondError answers with ARM's error body and records the response.
func (x *exchange) respondError(ctx context.Context, w http.ResponseWriter, status int, code, msg string, hdr http.Header) {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	for k, vs := range hdr {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Header().Set("x-ms-failure-cause", "interlock")
	w.WriteHeader(status)
	n, _ := w.Write(body)
	x.c.toCli.Add(int64(n))
	rec := record.NewBody(x.h.cfg.RecordCap)
	_, _ = rec.Original().Write(body)
	_, _ = rec.Masked().Write(body)
	payload := payloadOf(rec, "application/json")
	x.recordResponse(&interlockv1.HTTPResponse{
		ExchangeId: x.id, Status: uint32(status), Headers: x.h.redac.Headers(w.Header()), Body: payload, FromProxy: true,
		ProxyLatency: durationpb.New(time.Since(x.start)),
	})
}

// fail answers without recording (the recorder itself failed).
func (x *exchange) fail(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// teeBody streams a request body upstream while recording it.
type teeBody struct {
	r    io.ReadCloser
	w, m io.Writer
	n    interface{ Add(int64) int64 }
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		_, _ = t.w.Write(p[:n])
		_, _ = t.m.Write(p[:n])
		t.n.Add(int64(n))
	}
	return n, err
}

func (t *teeBody) Close() error { return t.r.Close() }

// bearer returns the bearer token of r.
func bearer(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// maxApprovalBody bounds the body of a request held for approval, which
// is read whole so that the approval covers it.
const maxApprovalBody = 1 << 20

// fingerprint is the SHA-256 of the exact request an approval covers:
// method, host, path, query and body.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", r.Method, strings.ToLower(r.Host), r.URL.Path, r.URL.RawQuery)
	h.Write(body)
	return h.Sum(nil)
}

// readBounded reads all of rc, refusing more than limit bytes.
func readBounded(rc io.ReadCloser, limit int64) ([]byte, error) {
	if rc == nil || rc == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("a request held for approval may carry at most %d body bytes", limit)
	}
	return b, nil
}

func denyMessage(d policy.Decision) string {
	name := "defaultAction"
	if d.Rule != nil {
		name = d.Rule.Name
	}
	if d.Message == "" {
		return name + ": request not allowed by policy"
	}
	return name + ": " + d.Message
}

func azureOp(a policy.ARM) *interlockv1.AzureOperation {
	if a.Operation == "" {
		return nil
	}
	return &interlockv1.AzureOperation{
		Subscription: a.Subscription, ResourceGroup: a.ResourceGroup, Provider: a.Provider, ResourceType: a.ResourceType,
		ResourceName: a.ResourceName, Action: a.Action, ApiVersion: a.APIVersion, Operation: a.Operation,
	}
}

func firstValues(q map[string][]string) map[string]string {
	out := make(map[string]string, len(q))
	for k, v := range q {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

func headerMap(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Cookie") {
			continue // conditions never see credentials
		}
		out[lowerHeader(k)] = strings.Join(v, ", ")
	}
	return out
}

// lowerHeader is the lower-case form of a header name, without allocating
// for the names requests usually carry.
func lowerHeader(k string) string {
	if l, ok := commonHeaders[k]; ok {
		return l
	}
	return strings.ToLower(k)
}

// commonHeaders maps canonical header names to their lower-case form.
var commonHeaders = func() map[string]string {
	names := []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection", "Content-Length",
		"Content-Type", "Content-Encoding", "Host", "If-Match", "If-None-Match", "Prefer", "Referer",
		"Traceparent", "Tracestate", "User-Agent", "X-Ms-Client-Request-Id", "X-Ms-Return-Client-Request-Id",
		"X-Ms-Correlation-Request-Id", "X-Ms-Version", "X-Ms-Date", "X-Ms-Useragent", "X-Interlock-Reason",
		"Commandname", "Parametersetname",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// hopHeaders are connection-level headers a proxy must not forward.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, c := range h.Values("Connection") {
		for _, f := range strings.Split(c, ",") {
			h.Del(strings.TrimSpace(f))
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// payloadOf is b's recorded payload, nil when nothing was written.
func payloadOf(b *record.Body, contentType string) *interlockv1.Payload {
	p, err := b.Payload()
	if err != nil || p == nil || p.Size == 0 {
		return nil
	}
	p.ContentType = contentType
	return p
}

// startedWriter writes the response header on the first body byte, so
// that a masking failure before any output can still become an error
// response.
type startedWriter struct {
	w       http.ResponseWriter
	status  int
	started bool
	n       int64
}

func (s *startedWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.w.WriteHeader(s.status)
	}
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}
