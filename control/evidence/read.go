// SPDX-License-Identifier: Apache-2.0

// Reading a bundle's archive: one pass, every entry checked for its name,
// type and size before a byte of it is used, and hashed as it is read.

package evidence

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Limits bound what Verify reads; zero fields take the defaults.
type Limits struct {
	// MaxEntry bounds one file: 64 MiB.
	MaxEntry int64
	// MaxTotal bounds all files together: 16 GiB.
	MaxTotal int64
	// MaxEntries bounds the number of files: 1,000,000.
	MaxEntries int
	// MaxDecoded bounds a chunk's decompressed size: 64 MiB.
	MaxDecoded uint64
	// MaxLine bounds one JSON line: 16 MiB.
	MaxLine int
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntry <= 0 {
		l.MaxEntry = 64 << 20
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = 16 << 30
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 1_000_000
	}
	if l.MaxDecoded == 0 {
		l.MaxDecoded = 64 << 20
	}
	if l.MaxLine <= 0 {
		l.MaxLine = 16 << 20
	}
	return l
}

// smallFile bounds files that are read whole and are never large.
const smallFile = 1 << 20

// errStop ends the reading loop after a problem that makes the rest of the
// archive untrustworthy to read (a bad name, an oversized entry).
var errStop = errors.New("stop")

// entry is one file of the archive as it is read.
type entry struct {
	name string
	size int64
	r    io.Reader // the file's bytes, hashed as they are read
	h    hash.Hash
}

// readArchive calls fn for every entry, in order, after checking it; fn
// may read e.r partly or not at all. It returns errStop after recording a
// problem, or ctx's error.
func readArchive(ctx context.Context, r io.Reader, lim Limits, rep *Report, fn func(e *entry) error) error {
	tr := tar.NewReader(bufio.NewReaderSize(r, 1<<16))
	seen := map[string]bool{}
	var total int64
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			rep.Fail("AU-9", "archive is truncated or corrupt after %d entries: %v", i, err)
			return errStop
		}
		if i >= lim.MaxEntries {
			rep.Fail("AU-9", "archive has more than %d entries", lim.MaxEntries)
			return errStop
		}
		if err := checkName(hdr.Name); err != nil {
			rep.Fail("AU-9", "entry %d has an unsafe name: %v", i+1, err)
			return errStop
		}
		if hdr.Typeflag != tar.TypeReg {
			rep.Fail("AU-9", "entry %s is of tar type %q, not a regular file", hdr.Name, hdr.Typeflag)
			return errStop
		}
		if seen[hdr.Name] {
			rep.Fail("AU-9", "entry %s appears twice", hdr.Name)
			return errStop
		}
		seen[hdr.Name] = true
		if hdr.Size < 0 || hdr.Size > lim.MaxEntry {
			rep.Fail("AU-9", "entry %s is %d bytes, more than the limit of %d", hdr.Name, hdr.Size, lim.MaxEntry)
			return errStop
		}
		if total += hdr.Size; total > lim.MaxTotal {
			rep.Fail("AU-9", "archive holds more than %d bytes", lim.MaxTotal)
			return errStop
		}
		h := sha256.New()
		e := &entry{name: hdr.Name, size: hdr.Size, r: io.TeeReader(tr, h), h: h}
		if err := fn(e); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				rep.Fail("AU-9", "archive is truncated in entry %s", hdr.Name)
				return errStop
			}
			return err
		}
		// Hash what fn left unread.
		if _, err := io.Copy(io.Discard, e.r); err != nil {
			rep.Fail("AU-9", "archive is truncated in entry %s: %v", hdr.Name, err)
			return errStop
		}
	}
}

// readAll reads an entry whole, refusing one over max bytes.
func (e *entry) readAll(max int64) ([]byte, error) {
	if e.size > max {
		return nil, fmt.Errorf("%s is %d bytes, more than %d", e.name, e.size, max)
	}
	b := make([]byte, e.size)
	if _, err := io.ReadFull(e.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// lines calls fn with each line of an entry (without its newline), up to
// max bytes a line.
func (e *entry) lines(max int, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(e.r)
	sc.Buffer(make([]byte, 0, 64<<10), max)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(n, sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s line %d is longer than %d bytes", e.name, n+1, max)
		}
		return err
	}
	return nil
}
