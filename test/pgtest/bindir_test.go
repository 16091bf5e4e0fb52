// SPDX-License-Identifier: Apache-2.0

// Finding the binaries, and the error when they are not there.

package pgtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMissingBinaries(t *testing.T) {
	t.Parallel()
	onlyInitdb := t.TempDir()
	writeExe(t, filepath.Join(onlyInitdb, "initdb"))
	tests := []struct {
		name    string
		binDir  string
		missing []string // paths the error must name
	}{
		{"no such dir", "/nonexistent/pgtest/bin", []string{"/nonexistent/pgtest/bin/initdb", "/nonexistent/pgtest/bin/postgres"}},
		{"empty dir", t.TempDir(), []string{"initdb", "postgres"}},
		{"no postgres", onlyInitdb, []string{filepath.Join(onlyInitdb, "postgres")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(context.Background(), Options{BinDir: tt.binDir})
			if err == nil {
				srv.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, ErrNotInstalled) {
				t.Errorf("error %v does not wrap ErrNotInstalled", err)
			}
			msg := err.Error()
			for _, want := range append(tt.missing, "apt-get install postgresql", "pgtest: ") {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, filepath.Join(onlyInitdb, "initdb")) {
				t.Errorf("error %q names initdb, which is there", msg)
			}
			t.Log(msg)
		})
	}
}

func TestFindBinDirNewest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		complete []string // versions with both binaries
		partial  []string // versions with initdb only
		want     string   // version, or "" for ErrNotInstalled
	}{
		{"single", []string{"15"}, nil, "15"},
		{"numeric not lexical", []string{"9.6", "10", "15", "13"}, nil, "15"},
		{"skips incomplete newest", []string{"9.6", "14"}, []string{"16"}, "14"},
		{"none complete", nil, []string{"15"}, ""},
		{"nothing", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, v := range tt.complete {
				writeExe(t, filepath.Join(root, v, "bin", "initdb"))
				writeExe(t, filepath.Join(root, v, "bin", "postgres"))
			}
			for _, v := range tt.partial {
				writeExe(t, filepath.Join(root, v, "bin", "initdb"))
			}
			got, err := findBinDir("", filepath.Join(root, "*", "bin"))
			if tt.want == "" {
				if !errors.Is(err, ErrNotInstalled) {
					t.Fatalf("findBinDir = %q, %v; want ErrNotInstalled", got, err)
				}
				return
			}
			if want := filepath.Join(root, tt.want, "bin"); got != want || err != nil {
				t.Errorf("findBinDir = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"15", "9.6", 1},
		{"9.6", "10", -1},
		{"15", "15", 0},
		{"9.6", "9.5", 1},
		{"10", "10.0", 0},
	}
	for _, tt := range tests {
		got := compareVersions(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}

func writeExe(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}
