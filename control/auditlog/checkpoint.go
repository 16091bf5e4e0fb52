// SPDX-License-Identifier: Apache-2.0

// Checkpoints: the text a signature covers, and parsing it back.

package auditlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/interlockhq/interlock/control/merkle"
)

// Checkpoint is a statement of the log's size and tree head at a time.
type Checkpoint struct {
	// Origin names the log; it is also the signing key's name.
	Origin string
	Size   uint64
	Root   merkle.Hash
	Time   time.Time
}

// ErrCheckpoint: text that is not a checkpoint.
var ErrCheckpoint = errors.New("auditlog: malformed checkpoint")

// Body is the checkpoint text the signature covers:
//
//	<origin>
//	<size, decimal>
//	<tree head, base64>
//	time <RFC 3339, UTC, nanoseconds>
func (c Checkpoint) Body() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\ntime %s\n", c.Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Root[:]), c.Time.UTC().Format(time.RFC3339Nano))
}

// ParseCheckpoint reads a checkpoint body, strictly: exactly the four
// lines Body writes.
func ParseCheckpoint(body []byte) (Checkpoint, error) {
	if !bytes.HasSuffix(body, []byte("\n")) {
		return Checkpoint{}, fmt.Errorf("%w: no final newline", ErrCheckpoint)
	}
	lines := strings.Split(string(body[:len(body)-1]), "\n")
	if len(lines) != 4 {
		return Checkpoint{}, fmt.Errorf("%w: %d lines, want 4", ErrCheckpoint, len(lines))
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin == "" || strings.ContainsAny(c.Origin, " +\t") {
		return Checkpoint{}, fmt.Errorf("%w: origin %q", ErrCheckpoint, c.Origin)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("%w: size %q", ErrCheckpoint, lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != merkle.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: tree head %q", ErrCheckpoint, lines[2])
	}
	copy(c.Root[:], root)
	ts, ok := strings.CutPrefix(lines[3], "time ")
	if !ok {
		return Checkpoint{}, fmt.Errorf("%w: line 4 %q is not a time", ErrCheckpoint, lines[3])
	}
	if c.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: time %q", ErrCheckpoint, ts)
	}
	return c, nil
}
