// SPDX-License-Identifier: Apache-2.0

// Writer: a bundle written as a stream, one file at a time, the manifest
// last.

package evidence

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Writer writes a bundle to an io.Writer as it goes: each file is written
// when added, and only its name, size and digest are kept.
type Writer struct {
	tw    *tar.Writer
	mtime time.Time
	files []FileEntry
	names map[string]bool
}

// NewWriter starts a bundle on w; files carry mtime.
func NewWriter(w io.Writer, mtime time.Time) *Writer {
	return &Writer{tw: tar.NewWriter(w), mtime: mtime.UTC().Truncate(time.Second), names: map[string]bool{}}
}

// Add writes one file.
func (w *Writer) Add(name string, data []byte) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if w.names[name] || name == ManifestFile || name == ManifestSig {
		return fmt.Errorf("evidence: %s added twice", name)
	}
	w.names[name] = true
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, ModTime: w.mtime, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("evidence: %s: %w", name, err)
	}
	if _, err := w.tw.Write(data); err != nil {
		return fmt.Errorf("evidence: %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	w.files = append(w.files, FileEntry{Path: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	return nil
}

// Close sets m.Files, writes the manifest and its signature by sign (the
// log key's note signer, given the text to sign), and ends the archive.
// It does not close the underlying writer.
func (w *Writer) Close(m *Manifest, sign func(text []byte) ([]byte, error)) error {
	m.Format, m.Files = Format, w.files
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("evidence: manifest: %w", err)
	}
	b = append(b, '\n')
	sig, err := sign(manifestSigText(b))
	if err != nil {
		return fmt.Errorf("evidence: sign manifest: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{ManifestFile, b}, {ManifestSig, sig}} {
		if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Size: int64(len(f.data)), Mode: 0o644, ModTime: w.mtime, Format: tar.FormatPAX}); err != nil {
			return fmt.Errorf("evidence: %s: %w", f.name, err)
		}
		if _, err := w.tw.Write(f.data); err != nil {
			return fmt.Errorf("evidence: %s: %w", f.name, err)
		}
	}
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// manifestSigText is what manifest.sig signs: a title no checkpoint can
// start with, and the manifest's SHA-256.
func manifestSigText(manifest []byte) []byte {
	sum := sha256.Sum256(manifest)
	return fmt.Appendf(nil, "%s\nsha256 %s\n", manifestNoteTitle, hex.EncodeToString(sum[:]))
}

// README is the README.txt of every bundle.
const README = `Interlock evidence bundle
=========================

This archive holds recorded sessions of AI agents' access to Azure, as the
Interlock control plane stored them, with proof that they are in its
tamper-evident audit log (an RFC 6962 Merkle tree with signed checkpoints).

Check it offline, with the log key you got from the control plane's
operator (not the log.pub in here, which only shows self-consistency):

    interlock audit verify BUNDLE.tar --key LOG.pub

  manifest.json       every file with its size and SHA-256; the sessions
                      and chunks; the checkpoint the proofs are against
  manifest.sig        the log key's signature over manifest.json's SHA-256
  checkpoint.note     signed checkpoint: origin, tree size, tree head, time
  log.pub             the log key (note verifier key form)
  controls.json       which files evidence which NIST SP 800-53 control
  chunks/NODE/SEQ.zst           recorded events exactly as stored (zstd,
                                protobuf interlock.v1.EventBatch)
  proofs/chunks/NODE/SEQ.json   each chunk's inclusion proof
  sessions/ID/summary.json      the session as the index sums it up
  sessions/ID/events.jsonl      its events decoded for people, seq order
  audit/records.jsonl           approvals, policy pushes, enrolments, each
                                with its inclusion proof
`
