// SPDX-License-Identifier: Apache-2.0

// Segment files: names, creation, and the in-memory index of chunks.

package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const segSuffix = ".seg"

// segment is one segment file. Fields are written by the writer goroutine
// (or Open) under Spool.mu.
type segment struct {
	id   uint64
	size int64
	// lastChunk is the seq of the last chunk record in the segment (0:
	// none).
	lastChunk uint64
	// tailEvents says the segment ends with event records not yet sealed
	// in it; only the active segment can, unless a crash intervened.
	tailEvents bool
}

func segName(id uint64) string { return fmt.Sprintf("%020d%s", id, segSuffix) }

func parseSegName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(base) != 20 {
		return 0, false
	}
	id, err := strconv.ParseUint(base, 10, 64)
	return id, err == nil
}

// chunkRef locates a sealed chunk on disk.
type chunkRef struct {
	seq    uint64
	seg    uint64 // segment id
	off    int64  // of the chunk record's frame
	n      int    // frame size
	events int
	zsize  int // compressed size
	first  time.Time
}

// createSegment creates segment id in dir with its magic, durably (file and
// directory entry fsync'd), and returns it open for appending.
func createSegment(dir string, id uint64) (*os.File, error) {
	path := filepath.Join(dir, segName(id))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if _, err := f.WriteString(magic); err != nil {
		f.Close()
		return nil, fmt.Errorf("write segment magic: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// syncDir fsyncs a directory so that created, renamed and removed entries
// are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}
