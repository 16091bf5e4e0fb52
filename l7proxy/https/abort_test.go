// SPDX-License-Identifier: Apache-2.0

// A response whose upstream body fails part way is recorded as aborted
// and aborted for the workload, not ended as if it were whole.

package https

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/record/recordtest"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestTruncatedUpstreamBodyAborts(t *testing.T) {
	sink := &recordtest.MemSink{}
	sess, err := record.New(sink, record.Options{}).Open(t.Context(), &interlockv1.SessionOpen{Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{cfg: Config{Observer: NopObserver{}, RecordCap: DefaultRecordCap}, log: slog.New(slog.DiscardHandler), redac: record.NewRedactor()}
	c := &conn{sess: sess, target: &policy.Target{Name: "arm"}}
	x := &exchange{h: h, c: c, id: 1}
	req, _ := http.NewRequest("GET", "https://management.azure.com/x", nil)
	resp := &http.Response{
		StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
		Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"value":[`), failingReader{})),
	}
	var out bytes.Buffer
	w := &h1Writer{bw: bufio.NewWriter(&out), req: req, hdr: make(http.Header)}

	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Fatalf("respond with a failing upstream body: recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		x.respond(t.Context(), w, resp, &policy.Decision{Action: policy.Allow}, 0, record.NewBody(0))
	}()
	// The server closes the connection instead of finishing: what the
	// workload has is not a complete response.
	_ = w.bw.Flush()
	if r, err := http.ReadResponse(bufio.NewReader(&out), req); err == nil {
		if b, err := io.ReadAll(r.Body); err == nil {
			t.Errorf("the workload can read %q as a whole body", b)
		}
	}
	if err := sess.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got *interlockv1.HTTPResponse
	for _, ev := range sink.Events() {
		if r := ev.GetHttpResponse(); r != nil {
			got = r
		}
	}
	if got == nil || !strings.Contains(got.GetAborted(), "cut off after 10 bytes") {
		t.Errorf("recorded response %v: want it marked aborted after 10 bytes", got)
	}
}
