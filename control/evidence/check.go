// SPDX-License-Identifier: Apache-2.0

// The checks Verify makes once it has read the whole archive.

package evidence

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/interlockhq/interlock/control/auditlog"
	"github.com/interlockhq/interlock/control/merkle"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// leaf is the audit log leaf of the record a line describes.
func (a AuditLine) leaf() ([]byte, error) {
	t, err := time.Parse(time.RFC3339Nano, a.Time)
	if err != nil {
		return nil, fmt.Errorf("time %q: %v", a.Time, err)
	}
	return auditlog.RecordLeaf{ID: a.ID, Time: t, Actor: a.Actor, Action: a.Action, Object: a.Object, Detail: a.Detail}.Encode(), nil
}

// check runs every check on what the pass collected.
func (v *verifier) check() {
	rep := v.rep
	if v.small[ManifestFile] == nil {
		rep.Fail("AU-9", "no %s: the bundle is truncated or not an evidence bundle", ManifestFile)
		return
	}
	vk, ok := v.key()
	if !ok {
		return
	}
	// AU-9: the manifest is signed, and the archive is exactly it.
	m, ok := v.manifest(vk)
	if !ok {
		return
	}
	cp, ok := v.checkpoint(vk, m)
	if !ok {
		return
	}
	root := cp.Root
	v.checkFiles(m)
	v.checkChunks(m, cp.Size, root)
	v.checkSessions(m)
	v.checkAudit(m, cp.Size, root)
	if _, err := v.controls(); err != nil {
		rep.Fail("AU-9", "%s: %v", ControlsFile, err)
	}
	if rep.OK() {
		rep.Note("AU-9", "manifest.sig and checkpoint.note are signed by log key %s; all %d files match manifest.json", rep.KeyID, len(v.order)-2)
		rep.Note("SC-13", "SHA-256 Merkle tree (RFC 6962) and Ed25519 signatures checked")
	}
}

// key returns the verifier for the log key: the given one, else log.pub.
func (v *verifier) key() (*auditlog.Verifier, bool) {
	rep := v.rep
	text := v.keyText
	if text == "" {
		rep.KeyFromBundle = true
		b := v.small[KeyFile]
		if b == nil {
			rep.Fail("AU-9", "no --key given and no %s in the bundle", KeyFile)
			return nil, false
		}
		text = string(b)
	}
	vk, err := auditlog.NewVerifier(text)
	if err != nil {
		rep.Fail("AU-9", "log key: %v", err)
		return nil, false
	}
	rep.KeyID, rep.VerifierKey = vk.KeyID(), strings.TrimSpace(text)
	if !rep.KeyFromBundle {
		if b := v.small[KeyFile]; b != nil && strings.TrimSpace(string(b)) != strings.TrimSpace(text) {
			rep.Note("AU-9", "the bundle's %s is another key than --key; --key was used", KeyFile)
		}
	}
	return vk, true
}

// manifest checks manifest.sig and parses manifest.json.
func (v *verifier) manifest(vk *auditlog.Verifier) (*Manifest, bool) {
	rep := v.rep
	sig := v.small[ManifestSig]
	if sig == nil {
		rep.Fail("AU-9", "no %s: the manifest is unsigned", ManifestSig)
		return nil, false
	}
	text, err := vk.OpenNote(sig)
	if err != nil {
		rep.Fail("AU-9", "%s: %v", ManifestSig, err)
		return nil, false
	}
	if want := manifestSigText(v.small[ManifestFile]); !bytes.Equal(text, want) {
		rep.Fail("AU-9", "%s signs another manifest than %s (edited manifest)", ManifestSig, ManifestFile)
		return nil, false
	}
	m := &Manifest{}
	if err := json.Unmarshal(v.small[ManifestFile], m); err != nil {
		rep.Fail("AU-9", "%s: %v", ManifestFile, err)
		return nil, false
	}
	if m.Format != Format {
		rep.Fail("AU-9", "%s: format %q, want %q", ManifestFile, m.Format, Format)
		return nil, false
	}
	return m, true
}

// checkpoint checks checkpoint.note's signature and that the manifest
// names the same checkpoint.
func (v *verifier) checkpoint(vk *auditlog.Verifier, m *Manifest) (auditlog.Checkpoint, bool) {
	rep := v.rep
	note := v.small[CheckpointFile]
	if note == nil {
		rep.Fail("AU-9", "no %s", CheckpointFile)
		return auditlog.Checkpoint{}, false
	}
	cp, err := vk.OpenCheckpoint(note)
	if err != nil {
		rep.Fail("AU-9", "%s: %v", CheckpointFile, err)
		return auditlog.Checkpoint{}, false
	}
	rep.Checkpoint = cp
	mc := m.Checkpoint
	if mc.Origin != cp.Origin || mc.Size != cp.Size || mc.Root != base64.StdEncoding.EncodeToString(cp.Root[:]) || mc.KeyID != rep.KeyID {
		rep.Fail("AU-9", "%s names checkpoint %s/%d/%s/%s, %s holds %s/%d/%s/%s", ManifestFile,
			mc.Origin, mc.Size, mc.Root, mc.KeyID, CheckpointFile, cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:]), rep.KeyID)
		return auditlog.Checkpoint{}, false
	}
	return cp, true
}

// checkFiles checks that the archive holds exactly the manifest's files, in
// its order, each of its size and digest.
func (v *verifier) checkFiles(m *Manifest) {
	rep := v.rep
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Path] = true
		got, ok := v.files[f.Path]
		if !ok {
			rep.Fail("AU-9", "%s is in the manifest but not in the archive (removed)", f.Path)
			continue
		}
		if got.size != f.Size || hex.EncodeToString(got.sum[:]) != f.SHA256 {
			rep.Fail("AU-9", "%s: SHA-256 %x (%d bytes) differs from the manifest's %s (%d bytes): the file was changed", f.Path, got.sum, got.size, f.SHA256, f.Size)
		}
	}
	var order []string
	for _, name := range v.order {
		if name == ManifestFile || name == ManifestSig {
			continue
		}
		if !listed[name] {
			rep.Fail("AU-9", "%s is in the archive but not in the manifest (added)", name)
			continue
		}
		order = append(order, name)
	}
	want := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		if _, ok := v.files[f.Path]; ok {
			want = append(want, f.Path)
		}
	}
	if !slices.Equal(order, want) {
		for i := range min(len(order), len(want)) {
			if order[i] != want[i] {
				rep.Fail("AU-9", "archive entry %d is %s, the manifest lists %s there (reordered)", i+1, order[i], want[i])
				break
			}
		}
	}
	if n := len(v.order); n < 2 || v.order[n-2] != ManifestFile || v.order[n-1] != ManifestSig {
		rep.Fail("AU-9", "%s and %s are not the archive's last entries", ManifestFile, ManifestSig)
	}
}

// checkChunks recomputes each chunk's leaf and checks its proof.
func (v *verifier) checkChunks(m *Manifest, size uint64, root merkle.Hash) {
	rep := v.rep
	proven := 0
	for _, mc := range m.Chunks {
		id := fmt.Sprintf("chunk %s/%d", mc.Node, mc.Seq)
		if mc.Path != ChunkPath(mc.Node, mc.Seq) || mc.Proof != ProofPath(mc.Node, mc.Seq) {
			rep.Fail("AU-10", "%s: manifest puts it at %s and %s", id, mc.Path, mc.Proof)
			continue
		}
		c, ok := v.chunks[mc.Path]
		if !ok {
			rep.Fail("AU-10", "%s: %s is missing (removed chunk)", id, mc.Path)
			continue
		}
		if c.bad != "" {
			rep.Fail("AU-3", "%s does not decode: %s", id, c.bad)
			continue
		}
		leaf := merkle.LeafHash(auditlog.ChunkLeaf{Node: mc.Node, Seq: mc.Seq, SHA256: c.sum, Sessions: c.sessions}.Encode())
		p, ok := v.proofs[mc.Proof]
		if !ok {
			rep.Fail("AU-10", "%s: no inclusion proof %s", id, mc.Proof)
			continue
		}
		hashes, err := parseHashes(p.Hashes)
		if err != nil {
			rep.Fail("AU-10", "%s: %s: %v", id, mc.Proof, err)
			continue
		}
		switch {
		case p.Node != mc.Node || p.Seq != mc.Seq || p.Leaf != mc.Leaf:
			rep.Fail("AU-10", "%s: proof %s is for chunk %s/%d at leaf %d, the manifest says leaf %d", id, mc.Proof, p.Node, p.Seq, p.Leaf, mc.Leaf)
		case p.TreeSize != size:
			rep.Fail("AU-10", "%s: proof for a log of %d leaves, the checkpoint has %d", id, p.TreeSize, size)
		case p.LeafHash != leaf.String():
			rep.Fail("AU-10", "%s: its bytes hash to leaf %s, the proof is for leaf %s: chunk changed, swapped or not this chunk", id, leaf, p.LeafHash)
		default:
			if err := merkle.VerifyInclusion(leaf, p.Leaf, size, hashes, root); err != nil {
				rep.Fail("AU-10", "%s: not in the signed log: %v", id, err)
				continue
			}
			proven++
		}
	}
	for name := range v.chunks {
		if !slices.ContainsFunc(m.Chunks, func(mc ManifestChunk) bool { return mc.Path == name }) {
			rep.Fail("AU-10", "%s is not a chunk the manifest lists", name)
		}
	}
	rep.Chunks = len(m.Chunks)
	if proven > 0 {
		rep.Note("AU-10", "%d chunk inclusion proofs verify against the checkpoint (size %d)", proven, size)
	}
	if len(m.Chunks) > 0 {
		rep.Note("SC-8", "%d chunks' SHA-256 recomputed from their bytes and bound to the signed log", proven)
	}
}

// checkSessions checks each session's events: from its chunks, seq 1 on
// without a gap, and equal to its events.jsonl.
func (v *verifier) checkSessions(m *Manifest) {
	rep := v.rep
	rep.Sessions = len(m.Sessions)
	var requests, undecided, complete, omitted, partial int
	decisions := map[interlockv1.Action]int{}
	for _, s := range m.Sessions {
		id := "session " + s.ID
		if s.Events != SessionEventsPath(s.ID) || s.Summary != SessionSummaryPath(s.ID) {
			rep.Fail("AU-3", "%s: manifest puts it at %s and %s", id, s.Events, s.Summary)
			continue
		}
		// Its events from the chunks, in seq order.
		var seqs []uint64
		for k := range v.events {
			if k.session == s.ID {
				seqs = append(seqs, k.seq)
			}
		}
		slices.Sort(seqs)
		for i, seq := range seqs {
			if seq != uint64(i)+1 {
				rep.Fail("AU-12", "%s: events are not contiguous: expected seq %d, next is %d (missing or removed events)", id, i+1, seq)
				break
			}
		}
		lines, ok := v.jsonl[s.Events]
		if !ok {
			rep.Fail("AU-3", "%s: %s is missing", id, s.Events)
			continue
		}
		if len(lines) != len(seqs) || uint64(len(lines)) != s.EventCount {
			rep.Fail("AU-3", "%s: %s has %d events, the chunks %d, the manifest %d", id, s.Events, len(lines), len(seqs), s.EventCount)
		}
		for i, l := range lines {
			ev, ok := v.events[eventKey{s.ID, l.seq}]
			switch {
			case l.session != s.ID:
				rep.Fail("AU-3", "%s: %s line %d is an event of session %s", id, s.Events, i+1, l.session)
			case l.seq != uint64(i)+1:
				rep.Fail("AU-3", "%s: %s line %d is seq %d, want %d", id, s.Events, i+1, l.seq, i+1)
			case !ok:
				rep.Fail("AU-3", "%s: %s line %d (seq %d) is in no chunk", id, s.Events, i+1, l.seq)
			case ev.digest != l.digest:
				rep.Fail("AU-3", "%s: %s line %d (seq %d) differs from the event recorded in %s", id, s.Events, i+1, l.seq, ev.chunk)
			default:
				continue
			}
			break
		}
		sum := &interlockv1.SessionSummary{}
		if b := v.small[s.Summary]; b == nil {
			rep.Fail("AU-3", "%s: %s is missing", id, s.Summary)
		} else if err := protojson.Unmarshal(b, sum); err != nil || sum.GetSessionId() != s.ID {
			rep.Fail("AU-3", "%s: %s is not its summary (%v)", id, s.Summary, err)
		}
		if s.Complete {
			complete++
		}
		switch {
		case s.Omitted < 0:
			rep.Fail("AU-3", "%s: the manifest says %d chunks were omitted", id, s.Omitted)
		case s.Omitted > 0:
			omitted += s.Omitted
			partial++
		}
		rep.Events += len(seqs)
		if st := v.stats[s.ID]; st != nil {
			requests += st.requests
			for a, n := range st.decisions {
				decisions[a] += n
			}
			for x := range st.asked {
				if !st.decided[x] {
					undecided++
				}
			}
		}
	}
	if len(m.Sessions) == 0 {
		return
	}
	if rep.OK() {
		rep.Note("AU-2", "%d sessions, %d events decoded from their chunks (%d sessions closed)", len(m.Sessions), rep.Events, complete)
		rep.Note("AU-3", "every event matches its line in the sessions' events.jsonl")
		rep.Note("AU-12", "every session's events run from seq 1 without a gap")
	}
	if omitted > 0 {
		// Stored while the bundle was exported, after its checkpoint:
		// not proven by it, so not in it.
		rep.Note("AU-2", "%d sessions go on past this bundle: %d of their chunks were stored after its checkpoint and are left out (a later export proves them)", partial, omitted)
	}
	rep.Note("AC-3", "%d requests; decisions: %d allow, %d deny, %d approve; %d without a decision",
		requests, decisions[interlockv1.Action_ACTION_ALLOW], decisions[interlockv1.Action_ACTION_DENY], decisions[interlockv1.Action_ACTION_APPROVE], undecided)
	if d := decisions[interlockv1.Action_ACTION_DENY]; d > 0 {
		rep.Note("AC-6", "%d requests outside policy were denied and recorded", d)
	}
}

// checkAudit checks every audit record's proof.
func (v *verifier) checkAudit(m *Manifest, size uint64, root merkle.Hash) {
	rep := v.rep
	if m.Audit.Path != AuditFile || !v.auditSeen {
		rep.Fail("AU-10", "no %s", AuditFile)
		return
	}
	if len(v.audit) != m.Audit.Count {
		rep.Fail("AU-10", "%s has %d records, the manifest %d", AuditFile, len(v.audit), m.Audit.Count)
	}
	rep.Records = len(v.audit)
	var last uint64
	actions := map[string]int{}
	proven := 0
	for i, a := range v.audit {
		if i > 0 && a.line.ID <= last {
			rep.Fail("AU-10", "audit record %d is out of order after %d", a.line.ID, last)
		}
		last = a.line.ID
		if a.line.Leaf >= size {
			rep.Fail("AU-10", "audit record %d: leaf %d is past the checkpoint's %d", a.line.ID, a.line.Leaf, size)
			continue
		}
		if err := merkle.VerifyInclusion(a.leaf, a.line.Leaf, size, a.proof, root); err != nil {
			rep.Fail("AU-10", "audit record %d (%s %s): not in the signed log: %v", a.line.ID, a.line.Action, a.line.Object, err)
			continue
		}
		proven++
		actions[strings.SplitN(a.line.Action, ".", 2)[0]]++
		actions[a.line.Action]++
	}
	if proven > 0 {
		rep.Note("AU-10", "%d audit record inclusion proofs verify", proven)
	}
	rep.Note("AC-5", "%d approval records (%d requests, %d decisions) proven in the log", actions["approval"], actions["approval.request"], actions["approval.decide"])
	if n := actions["policy.push"]; n > 0 {
		rep.Note("AC-6", "%d policy pushes proven in the log", n)
	}
}

// controls parses controls.json.
func (v *verifier) controls() ([]Control, error) {
	b := v.small[ControlsFile]
	if b == nil {
		return nil, fmt.Errorf("missing")
	}
	var cs []Control
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, err
	}
	return cs, nil
}
