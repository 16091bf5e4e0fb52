// SPDX-License-Identifier: Apache-2.0

// What the benchmarks read of a proxy's processes, and where from: this
// process's rusage, /proc for the others (children, CPU time, peak
// resident memory, read/write system calls).

package bench

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// proxyProc is a proxy's processes. Each method fails b on error.
type proxyProc interface {
	cpu(b *testing.B) time.Duration // user+system time so far
	peakRSS(b *testing.B) int64     // bytes, since resetPeak
	resetPeak(b *testing.B)
	rwSyscalls(b *testing.B) int64 // read- and write-family system calls so far
}

// selfProc is this process, where Interlock runs.
type selfProc struct{}

func (selfProc) cpu(b *testing.B) time.Duration { return cpuTime(b) }

func (selfProc) peakRSS(b *testing.B) int64 {
	n, err := peakRSS([]int{0})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func (selfProc) rwSyscalls(b *testing.B) int64 {
	n, err := rwSyscalls([]int{0})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func (selfProc) resetPeak(b *testing.B) {
	if err := resetPeakRSS([]int{0}); err != nil {
		b.Fatal(err)
	}
}

// treeProc is a proxy running outside this process: the process with
// this pid and its children (nginx's workers) as of each call.
type treeProc int

func (p treeProc) pids(b *testing.B) []int {
	b.Helper()
	kids, err := children(int(p))
	if err != nil {
		b.Fatal(err)
	}
	return append([]int{int(p)}, kids...)
}

func (p treeProc) cpu(b *testing.B) time.Duration {
	t, err := procCPU(p.pids(b))
	if err != nil {
		b.Fatal(err)
	}
	return t
}

func (p treeProc) peakRSS(b *testing.B) int64 {
	rss, err := peakRSS(p.pids(b))
	if err != nil {
		b.Fatal(err)
	}
	return rss
}

func (p treeProc) rwSyscalls(b *testing.B) int64 {
	c, err := rwSyscalls(p.pids(b))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func (p treeProc) resetPeak(b *testing.B) {
	if err := resetPeakRSS(p.pids(b)); err != nil {
		b.Fatal(err)
	}
}

// userHZ is the unit of /proc/PID/stat's times on Linux (USER_HZ).
const userHZ = 100

// procStat returns the fields of /proc/pid/stat after the command name:
// fields[0] is the state (field 3 of proc(5)).
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// children returns the pids whose parent is pid.
func children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := procStat(p)
		if err != nil || len(f) < 2 {
			continue // gone meanwhile
		}
		if f[1] == strconv.Itoa(pid) {
			kids = append(kids, p)
		}
	}
	return kids, nil
}

// procCPU returns the user+system CPU time of pids, summed.
func procCPU(pids []int) (time.Duration, error) {
	var ticks int64
	for _, p := range pids {
		f, err := procStat(p)
		if err != nil {
			return 0, err
		}
		if len(f) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: %d fields", p, len(f))
		}
		for _, s := range f[11:13] { // utime, stime: fields 14 and 15
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %w", p, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// peakRSS returns the VmHWM of pids, summed, in bytes. pid 0 is this
// process.
func peakRSS(pids []int) (int64, error) {
	var sum int64
	for _, p := range pids {
		path := "/proc/self/status"
		if p != 0 {
			path = fmt.Sprintf("/proc/%d/status", p)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		_, rest, ok := strings.Cut(string(b), "\nVmHWM:")
		if !ok {
			return 0, fmt.Errorf("%s: no VmHWM", path)
		}
		kb, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		n, err := strconv.ParseInt(kb, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: VmHWM: %w", path, err)
		}
		sum += n << 10
	}
	return sum, nil
}

// rwSyscalls returns the read- and write-family system calls of pids so
// far (syscr + syscw of /proc/PID/io), summed. pid 0 is this process.
// A process's count includes its reaped children's: the callers subtract
// what their load clients report of themselves.
func rwSyscalls(pids []int) (int64, error) {
	var sum int64
	for _, p := range pids {
		path := "/proc/self/io"
		if p != 0 {
			path = fmt.Sprintf("/proc/%d/io", p)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			if k != "syscr" && k != "syscw" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %s: %w", path, k, err)
			}
			sum += n
		}
	}
	return sum, nil
}

// resetPeakRSS sets the VmHWM of pids back to their current RSS (proc(5),
// clear_refs "5"). pid 0 is this process.
func resetPeakRSS(pids []int) error {
	for _, p := range pids {
		path := "/proc/self/clear_refs"
		if p != 0 {
			path = fmt.Sprintf("/proc/%d/clear_refs", p)
		}
		if err := os.WriteFile(path, []byte("5"), 0); err != nil {
			return err
		}
	}
	return nil
}

// waitListening waits up to 10 s until a peer proxy, started as a child
// process, accepts connections at addr; it fails b with the proxy's log if
// the process exits first (exited is closed) or never listens.
func waitListening(b *testing.B, name, addr string, exited <-chan struct{}, logFile string) {
	b.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile)
			b.Fatalf("%s exited: %s", name, log)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s does not listen on %s: %v", name, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
