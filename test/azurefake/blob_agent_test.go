// SPDX-License-Identifier: Apache-2.0

// The unmodified agent's download-blob step against Blob Storage, through
// a hosts file and SSL_CERT_FILE only.

package azurefake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"

	"github.com/interlockhq/interlock/test/sdkagent"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

func TestBlobAgentDownload(t *testing.T) {
	testenv.RequireRoot(t, "azurefake listens on port 443 and podsim makes a cgroup and a mount namespace")
	agent := sdkagent.BuildT(t)
	ca, err := testca.New("azurefake blob")
	if err != nil {
		t.Fatal(err)
	}
	b := Blob{Account: "agentdata", Container: "models", Name: "weights/v1.bin", Size: 3<<20 + 1}
	srv, err := Start(t.Context(), Options{CA: ca, Blobs: []Blob{b}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := srv.Clients()[0]
	lines, _ := runAgent(t, srv, agent, agentEnv(t, srv, c, "AZURE_CLIENT_SECRET="+c.Secret),
		"download-blob", "agentdata", "models", "weights/v1.bin",
		"download-blob", "agentdata", "models", "missing")
	if len(lines) != 2 {
		t.Fatalf("agent printed %d lines: %+v", len(lines), lines)
	}
	h := sha256.New()
	if _, err := io.Copy(h, b.NewReader(0)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Bytes, ContentLength int64
		SHA256, ETag         string
	}
	if err := json.Unmarshal(lines[0].Result, &got); err != nil || !lines[0].OK {
		t.Fatalf("download-blob: %+v (%v)", lines[0], err)
	}
	if got.Bytes != b.Size || got.ContentLength != b.Size || got.SHA256 != hex.EncodeToString(h.Sum(nil)) || got.ETag != b.ETag() {
		t.Errorf("download-blob printed %+v; want %d bytes, SHA-256 %x, ETag %s", got, b.Size, h.Sum(nil), b.ETag())
	}
	if l := lines[1]; l.OK || l.Error == nil || l.Error.Status != 404 || l.Error.Code != "BlobNotFound" {
		t.Errorf("download of a missing blob: %+v", l)
	}
}
