// SPDX-License-Identifier: Apache-2.0

package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseMount(t *testing.T) {
	tests := []struct {
		name, mounts, want string
		wantErr            bool
	}{
		{"hybrid", "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n", "/sys/fs/cgroup/unified", false},
		{"unified", "cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n", "/sys/fs/cgroup", false},
		{"escaped space", "none /mnt/my\\040cg cgroup2 rw 0 0\n", "/mnt/my cg", false},
		{"v1 only", "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n", "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMount([]byte(tt.mounts))
			if tt.wantErr {
				if !errors.Is(err, errors.ErrUnsupported) {
					t.Fatalf("err = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMount = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSelf(t *testing.T) {
	root, err := Mount()
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	rel, err := OfProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, rel)
	id, err := ID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if id == 0 {
		t.Errorf("ID(%s) = 0", dir)
	}
	pids, err := Procs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, os.Getpid()) {
		t.Errorf("Procs(%s) = %v, want it to contain this process %d", dir, pids, os.Getpid())
	}
	if _, err := ID(t.TempDir()); err == nil {
		t.Error("ID of a directory outside cgroupfs succeeded")
	}
}
