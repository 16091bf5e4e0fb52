// SPDX-License-Identifier: Apache-2.0

// The local admin credential file.

package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// AdminTokenPrefix starts every local admin token.
const AdminTokenPrefix = "ilat_"

// LoadOrCreateAdminToken returns the local admin token in path, creating
// the file (mode 0600, directory 0700) with a random token when it is
// missing. A file that others can read, or that another user owns, is
// refused.
func LoadOrCreateAdminToken(path string) (string, error) {
	tok, err := ReadTokenFile(path)
	if err == nil {
		if !strings.HasPrefix(tok, AdminTokenPrefix) {
			return "", fmt.Errorf("auth: %s does not hold an admin token", path)
		}
		return tok, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var b [32]byte
	rand.Read(b[:])
	tok = AdminTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("auth: create admin token: %w", err)
	}
	_, err = f.WriteString(tok + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("auth: write admin token: %w", err)
	}
	return tok, nil
}

// ReadTokenFile reads a bearer token from a file that only its owner, the
// current user, can read.
func ReadTokenFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("auth: token file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("auth: token file %s has mode %v: want 0600", path, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return "", fmt.Errorf("auth: token file %s is owned by uid %d, not %d", path, st.Uid, os.Geteuid())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth: token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("auth: token file %s is empty", path)
	}
	return tok, nil
}
