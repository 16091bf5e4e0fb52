// SPDX-License-Identifier: Apache-2.0

// Page cursors: an opaque (time, id) position in a newest-first listing.

package store

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// ErrBadCursor: a page token that this store did not hand out.
var ErrBadCursor = errors.New("invalid page token")

type cursor struct {
	time int64
	id   string
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.time, 10) + ":" + c.id))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	t, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return cursor{}, ErrBadCursor
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	return cursor{time: n, id: id}, nil
}
