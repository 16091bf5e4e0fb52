// SPDX-License-Identifier: Apache-2.0

// The bundle's layout: file names and the manifest.

package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Format names this layout in the manifest.
const Format = "interlock-evidence/v1"

// Fixed file names.
const (
	ReadmeFile     = "README.txt"
	CheckpointFile = "checkpoint.note"
	KeyFile        = "log.pub"
	ControlsFile   = "controls.json"
	AuditFile      = "audit/records.jsonl"
	ManifestFile   = "manifest.json"
	ManifestSig    = "manifest.sig"
)

// manifestNoteTitle starts the text manifest.sig signs; it can never be a
// checkpoint's origin line, which names a log key.
const manifestNoteTitle = "interlock evidence manifest v1"

// safeName is a path component written as is; anything else is hashed.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// component makes an id (a node or a session id, chosen by a node) safe
// as one path component: itself when it is plain, else its SHA-256.
func component(id string) string {
	if safeName.MatchString(id) && !strings.Contains(id, "..") {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256-" + hex.EncodeToString(sum[:16])
}

// ChunkPath is where a chunk's stored bytes go.
func ChunkPath(node string, seq uint64) string {
	return fmt.Sprintf("chunks/%s/%020d.zst", component(node), seq)
}

// ProofPath is where a chunk's inclusion proof goes.
func ProofPath(node string, seq uint64) string {
	return fmt.Sprintf("proofs/chunks/%s/%020d.json", component(node), seq)
}

// SessionSummaryPath and SessionEventsPath are where a session's index
// entry and its events (JSON lines, seq order) go.
func SessionSummaryPath(id string) string { return "sessions/" + component(id) + "/summary.json" }
func SessionEventsPath(id string) string  { return "sessions/" + component(id) + "/events.jsonl" }

// checkName says why name cannot be a file of a bundle, or nil: a
// relative, clean, slash-separated path of plain components.
func checkName(name string) error {
	switch {
	case name == "" || len(name) > 512:
		return fmt.Errorf("name of %d bytes", len(name))
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("absolute path %q", name)
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("path %q holds a backslash or NUL", name)
	case path.Clean(name) != name:
		return fmt.Errorf("path %q is not clean", name)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." || c == "." || !safeName.MatchString(c) {
			return fmt.Errorf("path %q has component %q", name, c)
		}
	}
	return nil
}

// Manifest describes a bundle. Every hash is lowercase hex; times are RFC
// 3339.
type Manifest struct {
	Format  string `json:"format"`
	Created string `json:"created"`
	// Filter is the session filter the export ran with (protojson).
	Filter     map[string]any     `json:"filter,omitempty"`
	Checkpoint ManifestCheckpoint `json:"checkpoint"`
	Files      []FileEntry        `json:"files"`
	Sessions   []ManifestSession  `json:"sessions"`
	Chunks     []ManifestChunk    `json:"chunks"`
	Audit      AuditEntry         `json:"audit"`
}

// ManifestCheckpoint is the checkpoint every proof is against.
type ManifestCheckpoint struct {
	Origin string `json:"origin"`
	Size   uint64 `json:"size"`
	Root   string `json:"root"`
	KeyID  string `json:"key_id"`
}

// FileEntry is one file of the bundle, in archive order.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ManifestSession is one exported session.
type ManifestSession struct {
	ID      string `json:"id"`
	Node    string `json:"node"`
	Summary string `json:"summary"`
	Events  string `json:"events"`
	// EventCount is how many events events.jsonl holds.
	EventCount uint64 `json:"event_count"`
	// Complete says the session's close event is among them.
	Complete bool `json:"complete"`
	// Chunks are "node/seq" of the chunks holding its events.
	Chunks []string `json:"chunks"`
	// Omitted counts chunks stored after the checkpoint, left out.
	Omitted int `json:"omitted_chunks,omitempty"`
}

// ManifestChunk is one exported chunk.
type ManifestChunk struct {
	Node   string `json:"node"`
	Seq    uint64 `json:"seq"`
	Leaf   uint64 `json:"leaf_index"`
	SHA256 string `json:"sha256"`
	Path   string `json:"path"`
	Proof  string `json:"proof"`
	// Sessions are the ids of the sessions with events in the chunk.
	Sessions []string `json:"sessions"`
}

// AuditEntry says where the audit records are.
type AuditEntry struct {
	Path  string `json:"path"`
	Count int    `json:"count"`
}

// ChunkProof is a chunk's inclusion proof file.
type ChunkProof struct {
	Node     string   `json:"node"`
	Seq      uint64   `json:"seq"`
	Leaf     uint64   `json:"leaf_index"`
	TreeSize uint64   `json:"tree_size"`
	LeafHash string   `json:"leaf_hash"`
	Hashes   []string `json:"hashes"`
}

// AuditLine is one line of audit/records.jsonl: an audit record, its leaf
// index and its inclusion proof.
type AuditLine struct {
	ID     uint64   `json:"id"`
	Leaf   uint64   `json:"leaf_index"`
	Time   string   `json:"time"`
	Actor  string   `json:"actor"`
	Action string   `json:"action"`
	Object string   `json:"object"`
	Detail string   `json:"detail"`
	Proof  []string `json:"proof"`
}
