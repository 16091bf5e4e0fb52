// SPDX-License-Identifier: Apache-2.0

// child_test.go holds the "agent" side of the tests: the test binary
// re-executed inside a podsim workload, dialing with plain syscalls so the
// test controls the socket family, the local address and the close.

package bpf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

const (
	childModeEnv = "INTERLOCK_BPF_TEST_CHILD" // "dial" or "flood"
	childArgsEnv = "INTERLOCK_BPF_TEST_ARGS"  // a JSON dialReq
)

// dialReq says what a child dials.
type dialReq struct {
	Dst    string // netip.AddrPort; a v4-mapped address dials on AF_INET6
	Family int    // 0: AF_INET for IPv4 Dst, AF_INET6 otherwise
	Bind   string // optional local netip.AddrPort
	Wait   bool   // dial: read one byte from the peer before closing
	Count  int    // flood: connections to make
	Linger bool   // flood: close with SO_LINGER 0 (RST, no TIME_WAIT)
}

// dialResult is what a child reports on stdout as one JSON object.
type dialResult struct {
	Peer  string // getpeername after connect
	Local string // getsockname after connect
	Errno int    // of a failed connect (0: none)
	Err   string
	Nanos int64 // connect time (dial) or total time (flood)
	Done  int   // flood: connections made
}

func runChild(mode, args string, out io.Writer) error {
	var req dialReq
	if err := json.Unmarshal([]byte(args), &req); err != nil {
		return fmt.Errorf("args: %w", err)
	}
	var res dialResult
	var err error
	switch mode {
	case "dial":
		res, err = childDial(req)
	case "flood":
		res, err = childFlood(req)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(res)
}

func sockaddr(ap netip.AddrPort, family int) unix.Sockaddr {
	if family == unix.AF_INET {
		return &unix.SockaddrInet4{Addr: ap.Addr().Unmap().As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

func addrPort(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return fmt.Sprintf("%T", sa)
}

// socketFor opens a TCP socket for req, bound if asked.
func socketFor(req dialReq) (fd int, dst unix.Sockaddr, err error) {
	ap, err := netip.ParseAddrPort(req.Dst)
	if err != nil {
		return -1, nil, err
	}
	family := req.Family
	if family == 0 {
		family = unix.AF_INET6
		if ap.Addr().Is4() {
			family = unix.AF_INET
		}
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, nil, fmt.Errorf("socket: %w", err)
	}
	if req.Bind != "" {
		local, err := netip.ParseAddrPort(req.Bind)
		if err == nil {
			err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		}
		if err == nil {
			err = unix.Bind(fd, sockaddr(local, family))
		}
		if err != nil {
			unix.Close(fd)
			return -1, nil, fmt.Errorf("bind %s: %w", req.Bind, err)
		}
	}
	return fd, sockaddr(ap, family), nil
}

func childDial(req dialReq) (dialResult, error) {
	var res dialResult
	fd, dst, err := socketFor(req)
	if err != nil {
		return res, err
	}
	defer unix.Close(fd)
	start := time.Now()
	err = unix.Connect(fd, dst)
	res.Nanos = time.Since(start).Nanoseconds()
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			res.Errno = int(errno)
		}
		res.Err = err.Error()
		return res, nil
	}
	if sa, err := unix.Getpeername(fd); err == nil {
		res.Peer = addrPort(sa)
	} else {
		res.Err = "getpeername: " + err.Error()
	}
	if sa, err := unix.Getsockname(fd); err == nil {
		res.Local = addrPort(sa)
	}
	if req.Wait {
		tv := unix.Timeval{Sec: 10}
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return res, err
		}
		// Wait to be told the proxy has looked us up, with our socket open.
		if _, err := unix.Read(fd, make([]byte, 1)); err != nil {
			res.Err = "read: " + err.Error()
		}
	}
	return res, nil
}

func childFlood(req dialReq) (dialResult, error) {
	var res dialResult
	start := time.Now()
	for res.Done < req.Count {
		fd, dst, err := socketFor(req)
		if err != nil {
			return res, err
		}
		if err := unix.Connect(fd, dst); err != nil {
			unix.Close(fd)
			return res, fmt.Errorf("connect %d: %w", res.Done, err)
		}
		if req.Linger {
			l := unix.Linger{Onoff: 1, Linger: 0}
			if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l); err != nil {
				unix.Close(fd)
				return res, err
			}
		}
		if err := unix.Close(fd); err != nil {
			return res, err
		}
		res.Done++
	}
	res.Nanos = time.Since(start).Nanoseconds()
	return res, nil
}
