// SPDX-License-Identifier: Apache-2.0

//go:build !linux

// peerClosed where the socket cannot be peeked at: a closed kept-alive
// connection is found when it is used (and the request retried if safe).

package https

import "net"

func peerClosed(*net.TCPConn) bool { return false }
