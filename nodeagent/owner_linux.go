// SPDX-License-Identifier: Apache-2.0

// Finding the process behind a loopback TCP connection from /proc, for
// proxy mode, where no BPF program records who connected.

package nodeagent

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// socketOwner finds the socket whose local address is client and remote
// address is server in /proc/net/tcp{,6} and returns its uid and inode.
func socketOwner(client, server netip.AddrPort) (uid uint32, inode uint64, err error) {
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		uid, inode, ok := findSocket(data, client, server)
		if ok {
			return uid, inode, nil
		}
	}
	return 0, 0, fmt.Errorf("no socket %v -> %v in /proc/net/tcp", client, server)
}

// findSocket scans the contents of a /proc/net/tcp file.
func findSocket(data []byte, local, remote netip.AddrPort) (uint32, uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		l, err1 := parseProcAddr(f[1])
		r, err2 := parseProcAddr(f[2])
		if err1 != nil || err2 != nil || !sameAddrPort(l, local) || !sameAddrPort(r, remote) {
			continue
		}
		uid, err1 := strconv.ParseUint(f[7], 10, 32)
		inode, err2 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		return uint32(uid), inode, true
	}
	return 0, 0, false
}

func sameAddrPort(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}

// parseProcAddr parses "0100007F:1F90" (IPv4) or a 32-hex-digit IPv6
// address with its port: each 32-bit word in host (little-endian) order.
func parseProcAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, errors.New("no port")
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q", h)
	}
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// pidOfSocket returns the first of pids that holds the socket inode.
func pidOfSocket(pids []int, inode uint64) (int, bool) {
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	for _, pid := range pids {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && l == want {
				return pid, true
			}
		}
	}
	return 0, false
}
