// SPDX-License-Identifier: Apache-2.0

package evidence

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/control/auditlog"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func verify(b []byte, key string, lim Limits) *Report {
	return Verify(context.Background(), bytes.NewReader(b), Options{Key: key, Limits: lim})
}

func TestVerifyGood(t *testing.T) {
	sp := defaultSpec(t)
	b, vkey := build(t, sp)
	rep := verify(b, vkey, Limits{})
	if !rep.OK() {
		t.Fatalf("good bundle: %v", rep.Problems)
	}
	if rep.Sessions != 2 || rep.Chunks != 3 || rep.Events != 8 || rep.Records != 3 || rep.KeyFromBundle {
		t.Errorf("report = %+v", rep)
	}
	var out strings.Builder
	if err := rep.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AU-9", "AU-10", "3 chunk inclusion proofs verify", "3 audit record inclusion proofs verify",
		"2 requests; decisions: 1 allow, 1 deny", "every session's events run from seq 1 without a gap", "\nVERIFIED: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	// Without --key: consistent, and said loudly to be only that.
	rep = verify(b, "", Limits{})
	out.Reset()
	rep.Print(&out)
	if !rep.OK() || !rep.KeyFromBundle || !strings.Contains(out.String(), "WARNING: no --key given") || !strings.Contains(out.String(), "internally consistent only") {
		t.Errorf("without a key: %v\n%s", rep.Problems, out.String())
	}
}

// A session that went on while the bundle was exported: its later chunks
// are left out, and the report says so; a negative count is refused.
func TestVerifyOmittedChunks(t *testing.T) {
	sp := defaultSpec(t)
	sp.omitted = map[string]int{"s1": 2}
	b, vkey := build(t, sp)
	rep := verify(b, vkey, Limits{})
	if !rep.OK() {
		t.Fatalf("bundle with omitted chunks: %v", rep.Problems)
	}
	var out strings.Builder
	if err := rep.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 sessions closed", "1 sessions go on past this bundle: 2 of their chunks were stored after its checkpoint"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	sp.omitted = map[string]int{"s2": -1}
	b, vkey = build(t, sp)
	if rep := verify(b, vkey, Limits{}); rep.OK() || !strings.Contains(rep.Err().Error(), "omitted") {
		t.Errorf("negative omitted count: %v", rep.Err())
	}
}

// TestVerifyHostile: every kind of tampering fails, with its reason.
func TestVerifyHostile(t *testing.T) {
	sp := defaultSpec(t)
	good, vkey := build(t, sp)
	chunk2 := ChunkPath("n1", 2)
	edit := func(fn func(fs []file) []file) []byte {
		return retar(t, fn(untar(t, good)))
	}
	forged := func(mutate func(name string, b []byte) []byte) []byte {
		s := sp
		s.mutate = mutate
		b, _ := build(t, s)
		return b
	}
	byOther := sp
	byOther.key = newKey(t)
	otherKeyBundle, _ := build(t, byOther)

	tests := []struct {
		name string
		b    []byte
		lim  Limits
		want string // in the first problem
	}{
		{"flipped byte in a chunk", edit(func(fs []file) []file {
			i := find(fs, chunk2)
			fs[i].data = bytes.Clone(fs[i].data)
			fs[i].data[len(fs[i].data)/2] ^= 0x01
			return fs
		}), Limits{}, chunk2 + ": SHA-256"},
		{"removed chunk", edit(func(fs []file) []file {
			i := find(fs, chunk2)
			return append(fs[:i], fs[i+1:]...)
		}), Limits{}, chunk2 + " is in the manifest but not in the archive (removed)"},
		{"chunks swapped", edit(func(fs []file) []file {
			i, j := find(fs, ChunkPath("n1", 1)), find(fs, chunk2)
			fs[i].data, fs[j].data = fs[j].data, fs[i].data
			return fs
		}), Limits{}, ChunkPath("n1", 1) + ": SHA-256"},
		{"entries reordered", edit(func(fs []file) []file {
			i, j := find(fs, ChunkPath("n1", 1)), find(fs, chunk2)
			fs[i], fs[j] = fs[j], fs[i]
			return fs
		}), Limits{}, "(reordered)"},
		{"edited checkpoint", edit(func(fs []file) []file {
			i := find(fs, CheckpointFile)
			lines := strings.SplitN(string(fs[i].data), "\n", 3)
			lines[1] = "999"
			fs[i].data = []byte(strings.Join(lines, "\n"))
			return fs
		}), Limits{}, "checkpoint.note: auditlog: no valid signature by the log key: the signature of key interlock/"},
		{"signed by another key", otherKeyBundle, Limits{}, "manifest.sig: auditlog: no valid signature by the log key: signed by key interlock/"},
		{"edited manifest", edit(func(fs []file) []file {
			i := find(fs, ManifestFile)
			fs[i].data = bytes.Replace(fs[i].data, []byte(`"event_count": 4`), []byte(`"event_count": 3`), 1)
			return fs
		}), Limits{}, "manifest.sig signs another manifest than manifest.json (edited manifest)"},
		{"added file", edit(func(fs []file) []file {
			extra := file{&tar.Header{Typeflag: tar.TypeReg, Name: "chunks/n1/extra.zst", Mode: 0o644}, []byte("x")}
			return append([]file{extra}, fs...)
		}), Limits{}, "chunks/n1/extra.zst is in the archive but not in the manifest (added)"},
		{"truncated tar", good[:len(good)/2], Limits{}, "truncated"},
		{"truncated at an entry boundary", retar(t, untar(t, good)[:5]), Limits{}, "no manifest.json: the bundle is truncated"},
		{"path traversal", edit(func(fs []file) []file {
			return append([]file{{&tar.Header{Typeflag: tar.TypeReg, Name: "../../etc/cron.d/x", Mode: 0o644}, []byte("x")}}, fs...)
		}), Limits{}, `entry 1 has an unsafe name: path "../../etc/cron.d/x" has component ".."`},
		{"absolute path", edit(func(fs []file) []file {
			return append([]file{{&tar.Header{Typeflag: tar.TypeReg, Name: "/etc/passwd", Mode: 0o644}, []byte("x")}}, fs...)
		}), Limits{}, `absolute path "/etc/passwd"`},
		{"symlink", edit(func(fs []file) []file {
			return append([]file{{&tar.Header{Typeflag: tar.TypeSymlink, Name: "chunks/link", Linkname: "/etc/passwd"}, nil}}, fs...)
		}), Limits{}, "entry chunks/link is of tar type '2', not a regular file"},
		{"duplicate entry", edit(func(fs []file) []file {
			return append([]file{fs[1]}, fs...)
		}), Limits{}, "entry checkpoint.note appears twice"},
		{"oversized entry", good, Limits{MaxEntry: 200}, "is 1"},
		{"oversized header", append(func() []byte {
			var b bytes.Buffer
			tw := tar.NewWriter(&b)
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "chunks/n1/huge.zst", Size: 1 << 40})
			return b.Bytes()
		}(), make([]byte, 4096)...), Limits{}, "entry chunks/n1/huge.zst is 1099511627776 bytes, more than the limit of 67108864"},
		{"too many entries", good, Limits{MaxEntries: 4}, "archive has more than 4 entries"},
		// A dishonest exporter: everything signed, the contents wrong.
		{"JSON event edited", forged(func(name string, b []byte) []byte {
			if name == SessionEventsPath("s2") {
				return bytes.Replace(b, []byte(`"ACTION_DENY"`), []byte(`"ACTION_ALLOW"`), 2)
			}
			return b
		}), Limits{}, "session s2: sessions/s2/events.jsonl line 3 (seq 3) differs from the event recorded in chunks/n1/00000000000000000003.zst"},
		{"chunk replaced", forged(func(name string, b []byte) []byte {
			if name == ChunkPath("n1", 3) {
				return zstdOf(t, ev("s2", 3, &interlockv1.Decision{ExchangeId: 1, Action: interlockv1.Action_ACTION_ALLOW}), ev("s2", 4, &interlockv1.SessionClose{}))
			}
			return b
		}), Limits{}, "chunk n1/3: its bytes hash to leaf"},
		{"audit record edited", forged(func(name string, b []byte) []byte {
			if name == AuditFile {
				return bytes.Replace(b, []byte(`"actor":"bob"`), []byte(`"actor":"alice"`), 1)
			}
			return b
		}), Limits{}, "audit record 3 (approval.decide a1): not in the signed log"},
		{"proof missing", forged(func(name string, b []byte) []byte {
			if name == ProofPath("n1", 1) {
				return nil
			}
			return b
		}), Limits{}, "chunk n1/1: no inclusion proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := verify(tt.b, vkey, tt.lim)
			err := rep.Err()
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("verified: %+v", rep)
			}
			if !strings.Contains(rep.Problems[0].Reason, tt.want) {
				t.Errorf("first problem %q, want it to say %q (all: %v)", rep.Problems[0], tt.want, rep.Problems)
			}
			var out strings.Builder
			rep.Print(&out)
			if !strings.Contains(out.String(), "\nFAILED: ") {
				t.Errorf("report does not end FAILED:\n%s", out.String())
			}
		})
	}
}

// TestVerifyGapAndOrder: a session with a missing event fails AU-12, even
// when the bundle is honestly signed.
func TestVerifyGap(t *testing.T) {
	sp := defaultSpec(t)
	sp.chunks[0] = sp.chunks[0][:2] // drop s1 seq 3
	b, vkey := build(t, sp)
	rep := verify(b, vkey, Limits{})
	if rep.OK() || rep.Problems[0].Control != "AU-12" || !strings.Contains(rep.Problems[0].Reason, "session s1: events are not contiguous: expected seq 3, next is 4") {
		t.Errorf("problems = %v", rep.Problems)
	}
}

func zstdOf(t testing.TB, evs ...*interlockv1.SessionEvent) []byte {
	t.Helper()
	raw, _ := proto.Marshal(&interlockv1.EventBatch{Events: evs})
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	return enc.EncodeAll(raw, nil)
}

// FuzzVerify feeds Verify arbitrary archives within small limits: it must
// never panic, and never verify what the key did not sign.
func FuzzVerify(f *testing.F) {
	sp := defaultSpec(f)
	good, vkey := build(f, sp)
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte{})
	lim := Limits{MaxEntry: 64 << 10, MaxTotal: 1 << 20, MaxEntries: 64, MaxDecoded: 1 << 20, MaxLine: 64 << 10}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		rep := verify(b, vkey, lim)
		if rep.OK() && !bytes.Equal(b, good) {
			// Only the signed bundle (perhaps re-padded) may verify.
			if rep.Checkpoint.Size != 6 {
				t.Fatalf("verified a bundle with checkpoint %+v", rep.Checkpoint)
			}
		}
	})
}

var _ = auditlog.ErrBadSignature
