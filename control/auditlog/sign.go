// SPDX-License-Identifier: Apache-2.0

// Signing and verifying checkpoints and other notes with the log's
// Ed25519 key.

package auditlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Signer signs checkpoints and notes for one origin.
type Signer struct {
	origin string
	key    ed25519.PrivateKey
	hash   uint32
	vkey   string
}

// NewSigner returns a signer for the log named origin.
func NewSigner(origin string, key ed25519.PrivateKey) (*Signer, error) {
	vkey, err := note.NewEd25519VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("auditlog: origin %q: %w", origin, err)
	}
	return &Signer{origin: origin, key: key, hash: keyHash(origin, key.Public().(ed25519.PublicKey)), vkey: vkey}, nil
}

// keyHash is the note key hash: the first four bytes of
// SHA-256(name "\n" 0x01 public key).
func keyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{0x01})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// DefaultOrigin names a log after its key, so that two control planes
// never share an origin: "interlock/" and 16 hex digits of SHA-256(key).
func DefaultOrigin(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return fmt.Sprintf("interlock/%x", sum[:8])
}

// Origin is the log's name.
func (s *Signer) Origin() string { return s.origin }

// KeyID is the key hash as eight hex digits.
func (s *Signer) KeyID() string { return fmt.Sprintf("%08x", s.hash) }

// VerifierKey is the public key in note verifier form
// ("<origin>+<key hash>+<base64 key>"), which `interlock audit verify
// --key` reads.
func (s *Signer) VerifierKey() string { return s.vkey }

// Name, KeyHash and Sign make *Signer a note.Signer.
func (s *Signer) Name() string    { return s.origin }
func (s *Signer) KeyHash() uint32 { return s.hash }
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	return ed25519.Sign(s.key, msg), nil
}

// Signed is a signed checkpoint.
type Signed struct {
	Checkpoint
	// Body is the text that Signature covers.
	Body []byte
	// Signature is the raw Ed25519 signature over Body.
	Signature []byte
	KeyID     string
	// Note is Body, a blank line and the signature line: the signed note.
	Note []byte
}

// SignCheckpoint signs c, whose origin must be the signer's.
func (s *Signer) SignCheckpoint(c Checkpoint) (Signed, error) {
	if c.Origin != s.origin {
		return Signed{}, fmt.Errorf("auditlog: checkpoint of %q signed as %q", c.Origin, s.origin)
	}
	body := c.Body()
	msg, err := note.Sign(&note.Note{Text: string(body)}, s)
	if err != nil {
		return Signed{}, fmt.Errorf("auditlog: sign: %w", err)
	}
	return Signed{Checkpoint: c, Body: body, Signature: ed25519.Sign(s.key, body), KeyID: s.KeyID(), Note: msg}, nil
}

// SignNote signs any text as a note (it must end in a newline).
func (s *Signer) SignNote(text []byte) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		return nil, fmt.Errorf("auditlog: sign: %w", err)
	}
	return msg, nil
}

// NoteFromSignature rebuilds the signed note from a checkpoint's body, its
// raw signature and origin and key id, as GetCheckpoint returns them.
func NoteFromSignature(body, sig []byte, origin, keyID string) ([]byte, error) {
	var hash uint32
	if _, err := fmt.Sscanf(keyID, "%08x", &hash); err != nil || len(keyID) != 8 {
		return nil, fmt.Errorf("auditlog: key id %q: want 8 hex digits", keyID)
	}
	raw := binary.BigEndian.AppendUint32(nil, hash)
	raw = append(raw, sig...)
	var b bytes.Buffer
	b.Write(body)
	fmt.Fprintf(&b, "\n\u2014 %s %s\n", origin, base64.StdEncoding.EncodeToString(raw))
	return b.Bytes(), nil
}

// Errors from verifying notes.
var (
	// ErrBadSignature: no valid signature by the given key.
	ErrBadSignature = errors.New("auditlog: no valid signature by the log key")
	// ErrKey: a verifier key that does not parse.
	ErrKey = errors.New("auditlog: malformed verifier key")
)

// Verifier checks notes signed by one log key.
type Verifier struct {
	v      note.Verifier
	origin string
}

// NewVerifier parses a verifier key ("<origin>+<hash>+<base64 key>").
func NewVerifier(vkey string) (*Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return &Verifier{v: v, origin: v.Name()}, nil
}

// Origin is the log the key belongs to.
func (v *Verifier) Origin() string { return v.origin }

// KeyID is the key hash as eight hex digits.
func (v *Verifier) KeyID() string { return fmt.Sprintf("%08x", v.v.KeyHash()) }

// OpenNote checks msg's signature by this key and returns the signed text.
func (v *Verifier) OpenNote(msg []byte) ([]byte, error) {
	n, err := note.Open(msg, note.VerifierList(v.v))
	if err != nil {
		var invalid *note.InvalidSignatureError
		if errors.As(err, &invalid) {
			return nil, fmt.Errorf("%w: the signature of key %s %s does not match the text (edited after signing)", ErrBadSignature, v.origin, v.KeyID())
		}
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			if others := signers(msg); len(others) > 0 && !slices.Contains(others, v.origin+" "+v.KeyID()) {
				return nil, fmt.Errorf("%w: signed by key %s, want %s %s", ErrBadSignature, strings.Join(others, ", "), v.origin, v.KeyID())
			}
			return nil, fmt.Errorf("%w: no signature by key %s %s", ErrBadSignature, v.origin, v.KeyID())
		}
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return []byte(n.Text), nil
}

// signers lists "<name> <key id>" of each signature line of a note, for
// error messages.
func signers(msg []byte) []string {
	_, sigs, ok := strings.Cut(string(msg), "\n\n")
	if !ok {
		return nil
	}
	var out []string
	for _, line := range strings.Split(sigs, "\n") {
		name, b64, ok := strings.Cut(strings.TrimPrefix(line, "\u2014 "), " ")
		if !ok || !strings.HasPrefix(line, "\u2014 ") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) < 4 {
			continue
		}
		out = append(out, fmt.Sprintf("%s %08x", name, binary.BigEndian.Uint32(raw)))
	}
	return out
}

// OpenCheckpoint checks a signed checkpoint note and parses it; its origin
// must be the key's.
func (v *Verifier) OpenCheckpoint(msg []byte) (Checkpoint, error) {
	body, err := v.OpenNote(msg)
	if err != nil {
		return Checkpoint{}, err
	}
	c, err := ParseCheckpoint(body)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.origin {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint of log %q, key of %q", ErrCheckpoint, c.Origin, v.origin)
	}
	return c, nil
}
