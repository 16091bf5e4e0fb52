// SPDX-License-Identifier: Apache-2.0

// Tests of the benchmarks' own arithmetic, /proc readers and generated
// configuration, which run with the other tests (no root, no nginx, no
// pgbouncer).

package bench

import (
	"os"
	"slices"
	"testing"
)

func TestPercentiles(t *testing.T) {
	seq := func(n int) []int64 {
		s := make([]int64, n)
		for i := range s {
			s[i] = int64(n - i) // reversed: percentiles sorts
		}
		return s
	}
	for _, tc := range []struct {
		name string
		ns   []int64
		want []int64 // p50, p99
	}{
		{"empty", nil, []int64{0, 0}},
		{"one", []int64{7}, []int64{7, 7}},
		{"two", []int64{9, 1}, []int64{1, 9}},
		{"hundred", seq(100), []int64{50, 99}},
		{"thousand", seq(1000), []int64{500, 990}},
		{"1001", seq(1001), []int64{501, 991}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentiles(tc.ns, 50, 99); !slices.Equal(got, tc.want) {
				t.Errorf("p50, p99 = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProcReaders(t *testing.T) {
	self := os.Getpid()
	if cpu, err := procCPU([]int{self}); err != nil || cpu < 0 {
		t.Errorf("procCPU(self) = %v, %v", cpu, err)
	}
	kids, err := children(os.Getppid())
	if err != nil || !slices.Contains(kids, self) {
		t.Errorf("children(parent) = %v, %v; want it to hold %d", kids, err, self)
	}
	if err := resetPeakRSS([]int{0}); err != nil {
		t.Fatal(err)
	}
	for _, pids := range [][]int{{0}, {self}} {
		if rss, err := peakRSS(pids); err != nil || rss < 1<<20 {
			t.Errorf("peakRSS(%v) = %d, %v", pids, rss, err)
		}
	}
	// 100 writes to a pipe are at least 100 write-family system calls.
	before, err := rwSyscalls([]int{0})
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for range 100 {
		if _, err := w.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	if after, err := rwSyscalls([]int{0}); err != nil || after-before < 100 {
		t.Errorf("rwSyscalls rose by %d after 100 writes (%v)", after-before, err)
	}
	if _, err := procCPU([]int{1 << 30}); err == nil {
		t.Error("procCPU of a pid that does not exist: no error")
	}
}

func TestPgbouncerQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"interlock", `"interlock"`},
		{"", `""`},
		{`pa"ss`, `"pa""ss"`},
		{`a b\c`, `"a b\c"`},
	} {
		if got := pgbouncerQuote(tc.in); got != tc.want {
			t.Errorf("pgbouncerQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
