// SPDX-License-Identifier: Apache-2.0

// Test helpers: realistic events and reading a spool back.

package spool_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// armBody returns a JSON-ish ARM body of about n bytes.
func armBody(r *rand.Rand, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"value":[`)
	for b.Len() < n-64 {
		fmt.Fprintf(&b, `{"id":"/subscriptions/%08x-0000-4000-8000-%012x/resourceGroups/rg-%d/providers/Microsoft.Storage/storageAccounts/st%d","location":"westeurope","sku":{"name":"Standard_LRS"},"tags":{"owner":"team-%d"}},`,
			r.Uint32(), r.Uint64()&0xffffffffffff, r.IntN(50), r.IntN(1000), r.IntN(9))
	}
	b.WriteString(`{}]}`)
	return []byte(b.String()[:min(b.Len(), n)])
}

func payload(body []byte) *interlockv1.Payload {
	sum := sha256.Sum256(body)
	return &interlockv1.Payload{Masked: body, Size: uint64(len(body)), Sha256: sum[:], ContentType: "application/json"}
}

// armEvent returns event seq of a session: an ARM request (odd seq) or its
// response (even seq), with bodies of bodySize bytes.
func armEvent(r *rand.Rand, session string, seq uint64, bodySize int) *interlockv1.SessionEvent {
	ev := &interlockv1.SessionEvent{
		SessionId: session,
		Seq:       seq,
		Time:      timestamppb.New(time.Now()),
		SinceOpen: durationpb.New(time.Duration(seq) * time.Millisecond),
	}
	x := (seq + 1) / 2
	if seq%2 == 1 {
		ev.Event = &interlockv1.SessionEvent_HttpRequest{HttpRequest: &interlockv1.HTTPRequest{
			ExchangeId: x,
			Method:     "PUT",
			Host:       "management.azure.com",
			Path:       fmt.Sprintf("/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-%d/providers/Microsoft.Storage/storageAccounts/st%d", x%7, x),
			Query:      "api-version=2025-01-01",
			Proto:      "HTTP/2.0",
			Headers: []*interlockv1.Header{
				{Name: "Authorization", Values: []string{"[REDACTED]"}, Redacted: true},
				{Name: "Content-Type", Values: []string{"application/json"}},
				{Name: "User-Agent", Values: []string{"azsdk-go-armstorage/v2.0.0 (go1.26; linux)"}},
				{Name: "X-Ms-Client-Request-Id", Values: []string{fmt.Sprintf("%016x", r.Uint64())}},
			},
			Body: payload(armBody(r, bodySize)),
			Azure: &interlockv1.AzureOperation{
				Subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", ResourceGroup: "rg-1",
				Provider: "Microsoft.Storage", ResourceType: "storageAccounts", ResourceName: "st1",
				ApiVersion: "2025-01-01", Operation: "Microsoft.Storage/storageAccounts/write",
			},
			Identity: &interlockv1.Identity{Issuer: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/", Subject: "agent", AppId: "agent-app"},
		}}
	} else {
		ev.Event = &interlockv1.SessionEvent_HttpResponse{HttpResponse: &interlockv1.HTTPResponse{
			ExchangeId: x,
			Status:     200,
			Headers: []*interlockv1.Header{
				{Name: "Content-Type", Values: []string{"application/json; charset=utf-8"}},
				{Name: "X-Ms-Request-Id", Values: []string{fmt.Sprintf("%016x", r.Uint64())}},
			},
			Body:            payload(armBody(r, bodySize)),
			UpstreamLatency: durationpb.New(40 * time.Millisecond),
			ProxyLatency:    durationpb.New(90 * time.Microsecond),
		}}
	}
	return ev
}

// openEvent is the first event of a session.
func openEvent(session string) *interlockv1.SessionEvent {
	return &interlockv1.SessionEvent{
		SessionId: session, Seq: 1, Time: timestamppb.Now(), SinceOpen: durationpb.New(0),
		Event: &interlockv1.SessionEvent_Open{Open: &interlockv1.SessionOpen{Node: "node-1", Target: "arm", Protocol: interlockv1.Protocol_PROTOCOL_HTTPS}},
	}
}

// evHash identifies an event by its deterministic serialization.
func evHash(t testing.TB, ev *interlockv1.SessionEvent) [32]byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// readAll returns every pending chunk of sp after seq and their events,
// without waiting for more.
func readAll(t testing.TB, sp *spool.Spool, after uint64) ([]*interlockv1.UploadChunk, []*interlockv1.SessionEvent) {
	t.Helper()
	var chunks []*interlockv1.UploadChunk
	var evs []*interlockv1.SessionEvent
	last := sp.Stats().LastSeq
	for after < last {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := sp.Next(ctx, after)
		cancel()
		if err != nil {
			t.Fatalf("next after %d (last %d): %v", after, last, err)
		}
		if len(chunks) > 0 && c.Seq != after+1 {
			t.Fatalf("chunk seq %d after %d: gap", c.Seq, after)
		}
		b, err := spool.DecodeChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, c)
		evs = append(evs, b.Events...)
		after = c.Seq
	}
	return chunks, evs
}

// openSpool opens a spool in dir and closes it at the end of the test.
func openSpool(t testing.TB, dir string, opts spool.Options) *spool.Spool {
	t.Helper()
	sp, err := spool.Open(dir, opts)
	if err != nil {
		t.Fatalf("open spool: %v", err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

func appendOne(t testing.TB, sp *spool.Spool, ev *interlockv1.SessionEvent) {
	t.Helper()
	if err := sp.Append(context.Background(), []*interlockv1.SessionEvent{ev}); err != nil {
		t.Fatalf("append %s/%d: %v", ev.SessionId, ev.Seq, err)
	}
}
