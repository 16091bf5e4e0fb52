// SPDX-License-Identifier: Apache-2.0

// Acceptance of the data planes through the node: Key Vault (the
// unauthenticated challenge passes, a secret's value is masked for the
// agent and in the recording) and Blob Storage (a download larger than
// 1 GiB streams through the inspecting proxy with bounded memory). The
// unmodified SDK agent runs in a simulated pod, as in https_test.go.

package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/sdkagent"
)

// dataPolicy inspects Key Vault and Blob Storage, passes the agent's own
// token through, masks secret values and lets blobs be read unmasked.
const dataPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: data}
targets:
  - name: vault
    protocol: https
    hosts: ["*.vault.azure.net"]
    credential: {mode: passthrough}
  - name: blob
    protocol: https
    hosts: ["*.blob.core.windows.net"]
    credential: {mode: passthrough}
identity:
  issuers:
    - {issuer: "%[1]s", audience: "https://vault.azure.net", jwksUrl: "%[2]s"}
    - {issuer: "%[1]s", audience: "https://storage.azure.com", jwksUrl: "%[2]s"}
rules:
  - name: secret-values-masked
    when: arm.operation == "Microsoft.KeyVault/vaults/secrets/getSecret/action"
    action: allow
    mask: [{jsonPath: "$.value"}]
  - name: agents-read-blobs
    when: arm.operation == "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    action: allow
defaultAction: deny
`

// startDataEnv is startEnv with azurefake seeded by seed (vaults,
// secrets, blobs) and dataPolicy pushed.
func startDataEnv(t *testing.T, seed azurefake.Options) *httpsEnv {
	t.Helper()
	seed.Clients = []azurefake.Client{{}}
	return startEnv(t, envSpec{pod: "datapod", seed: seed, policy: func(srv *azurefake.Server, _ string) string {
		return fmt.Sprintf(dataPolicy, srv.IssuerV1(), srv.JWKSURL())
	}})
}

func TestKeyVaultSecretMaskedThroughNode(t *testing.T) {
	value := "kv-" + rand.Text() // azurefake's real value, unique per run
	e := startDataEnv(t, azurefake.Options{
		Vaults:  []string{"agent-kv"},
		Secrets: []azurefake.Secret{{Vault: "agent-kv", Name: "db-password", Value: value}},
	})
	lines := e.run(t, "get-secret", "agent-kv", "db-password")
	if len(lines) != 1 || !lines[0].OK {
		t.Fatalf("get-secret through the node: %+v", lines)
	}
	var got struct{ Name, Value string }
	if err := json.Unmarshal(lines[0].Result, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "db-password" || got.Value == "" || strings.Contains(got.Value, value) {
		t.Errorf("the agent got %+v; want the secret with its value masked (the real value is %s)", got, value)
	}

	// The challenge (no token) reached Key Vault and was answered; then the
	// request with the token did.
	var challenged, served bool
	for _, r := range e.srv.Requests() {
		if !strings.HasSuffix(r.Host, azurefake.VaultSuffix) {
			continue
		}
		switch {
		case r.Status == 401 && r.Claims == nil:
			challenged = true
		case r.Status == 200 && r.Claims["aud"] == azurefake.ResourceKeyVault:
			served = true
		}
	}
	if !challenged || !served {
		t.Errorf("azurefake saw the challenge: %v, the authenticated GET: %v", challenged, served)
	}

	evs := e.recording(t, 1)
	var rule string
	var masked []byte
	var masks []*interlockv1.MaskApplied
	for _, ev := range evs {
		b, _ := proto.Marshal(ev)
		if bytes.Contains(b, []byte(value)) {
			t.Errorf("the secret's value appears in the recording: %v", ev)
		}
		if d := ev.GetDecision(); d != nil && d.GetRule() != "" {
			rule = d.GetRule()
		}
		if r := ev.GetHttpResponse(); r != nil && r.GetStatus() == 200 {
			masked, masks = r.GetBody().GetMasked(), r.GetBody().GetMasks()
		}
	}
	if rule != "secret-values-masked" {
		t.Errorf("recorded decision rule %q, want secret-values-masked", rule)
	}
	if !bytes.Contains(masked, []byte(got.Value)) || len(masks) == 0 {
		t.Errorf("recorded response %s (masks %v) does not hold what the agent got (%s)", masked, masks, got.Value)
	}
}

func TestBlobDownloadStreamsThroughNode(t *testing.T) {
	blob := azurefake.Blob{Account: "agentdata", Container: "models", Name: "weights/llm-1.1g.bin", Size: 11 << 30 / 10}
	e := startDataEnv(t, azurefake.Options{Blobs: []azurefake.Blob{blob}})

	// The whole node, the control plane and azurefake run in this process:
	// sample the Go heap while the agent (another process) downloads.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rssBefore := procStatus(t, "VmRSS")
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil // resets VmHWM to VmRSS
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peakHeap, peakSys uint64
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peakHeap, peakSys = max(peakHeap, ms.HeapInuse), max(peakSys, ms.Sys)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	began := time.Now()
	lines, _, _ := sdkagent.Run(t, e.pod.Start, e.agent, e.env, 5*time.Minute, "download-blob", blob.Account, blob.Container, blob.Name)
	took := time.Since(began)
	close(stop)
	wg.Wait()
	hwm := procStatus(t, "VmHWM")

	if len(lines) != 1 || !lines[0].OK {
		t.Fatalf("download-blob through the node: %+v", lines)
	}
	var got struct {
		Bytes, ContentLength int64
		SHA256               string
	}
	if err := json.Unmarshal(lines[0].Result, &got); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, blob.NewReader(0), make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(h.Sum(nil))
	if got.Bytes != blob.Size || got.SHA256 != want {
		t.Errorf("the agent read %d bytes with SHA-256 %s; want %d bytes, %s", got.Bytes, got.SHA256, blob.Size, want)
	}

	const mib = 1 << 20
	growth := int64(peakHeap) - int64(before.HeapInuse)
	t.Logf("%.2f GiB in %s: %.0f MiB/s through the node (agent run, token included)",
		float64(blob.Size)/(1<<30), took.Round(time.Millisecond), float64(blob.Size)/mib/took.Seconds())
	t.Logf("Go heap in use: %.1f MiB before, peak %.1f MiB during (growth %.1f MiB); Go Sys: %.1f -> peak %.1f MiB",
		float64(before.HeapInuse)/mib, float64(peakHeap)/mib, float64(growth)/mib, float64(before.Sys)/mib, float64(peakSys)/mib)
	if hwmReset {
		t.Logf("process RSS %.1f MiB before, peak RSS during %.1f MiB (growth %.1f MiB)",
			float64(rssBefore)/mib, float64(hwm)/mib, float64(hwm-rssBefore)/mib)
	} else {
		t.Logf("process RSS %.1f MiB before, VmHWM %.1f MiB after (VmHWM could not be reset)", float64(rssBefore)/mib, float64(hwm)/mib)
	}
	if growth >= 64*mib {
		t.Errorf("the Go heap grew by %.1f MiB while %.2f GiB streamed through; want < 64 MiB", float64(growth)/mib, float64(blob.Size)/(1<<30))
	}

	// The proxy recorded the exchange: the whole size and the hash of what
	// crossed it, and no more than the record cap of the body.
	var recorded *interlockv1.Payload
	for _, ev := range e.recording(t, 1) {
		if r := ev.GetHttpResponse(); r != nil && r.GetStatus() == 200 && r.GetBody().GetSize() == uint64(blob.Size) {
			recorded = r.GetBody()
		}
	}
	switch {
	case recorded == nil:
		t.Error("no recorded response of the blob's size")
	case hex.EncodeToString(recorded.GetSha256()) != want || !recorded.GetTruncated() || len(recorded.GetMasked()) > 1<<20:
		t.Errorf("recorded payload: sha256 %x truncated %v, %d bytes kept", recorded.GetSha256(), recorded.GetTruncated(), len(recorded.GetMasked()))
	}
	if n := e.srv.Count("GET", "/models/weights/"); n != 1 {
		t.Errorf("azurefake served %d blob GETs, want 1 (one stream, no retries)", n)
	}
}

// procStatus returns a "kB" field of /proc/self/status, in bytes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
