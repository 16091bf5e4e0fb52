// SPDX-License-Identifier: Apache-2.0

package nodeagent

import (
	"net"
	"net/netip"
	"os"
	"testing"
)

func TestParseProcAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"0900007F:01BB", "127.0.0.9:443"},
		{"00000000000000000000000001000000:0050", "[::1]:80"},
		{"0000000000000000FFFF00000100007F:01BB", "[::ffff:127.0.0.1]:443"},
	}
	for _, tt := range tests {
		got, err := parseProcAddr(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0100007F", "zz:01", "0100007F:zzzz", "01007F:0050"} {
		if _, err := parseProcAddr(bad); err == nil {
			t.Errorf("parseProcAddr(%q) succeeded", bad)
		}
	}
}

func TestSocketOwnerOfOwnConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := netip.MustParseAddrPort(c.LocalAddr().String())
	server := netip.MustParseAddrPort(c.RemoteAddr().String())
	uid, inode, err := socketOwner(client, server)
	if err != nil {
		t.Fatal(err)
	}
	if uid != uint32(os.Getuid()) || inode == 0 {
		t.Errorf("owner = uid %d inode %d", uid, inode)
	}
	pid, ok := pidOfSocket([]int{1, os.Getpid()}, inode)
	if !ok || pid != os.Getpid() {
		t.Errorf("pidOfSocket = %d, %v; want this process %d", pid, ok, os.Getpid())
	}
}
