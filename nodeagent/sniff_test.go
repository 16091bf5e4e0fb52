// SPDX-License-Identifier: Apache-2.0

package nodeagent

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
)

func TestStartsLikePostgres(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        []byte
		pg, sure bool
	}{
		{"SSLRequest", []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}, true, true},
		{"GSSENCRequest", []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}, true, true},
		{"CancelRequest", []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e}, true, true},
		{"StartupMessage 3.0", []byte{0, 0, 0, 0x29, 0, 3, 0, 0}, true, true},
		{"TLS ClientHello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, false, true},
		{"HTTP", []byte("GET / HT"), false, true},
		{"one byte of TLS", []byte{0x16}, false, true},
		{"a length, then too little", []byte{0, 0, 0, 8, 0x04}, false, false},
		{"nothing yet", nil, false, false},
		{"a length, then another code", []byte{0, 0, 0, 8, 1, 2, 3, 4}, false, true},
		{"StartupMessage 2.0", []byte{0, 0, 1, 0x28, 0, 2, 0, 0}, false, true},
	} {
		pg, sure := startsLikePostgres(tc.b)
		if pg != tc.pg || sure != tc.sure {
			t.Errorf("%s: startsLikePostgres(% x) = %v, %v; want %v, %v", tc.name, tc.b, pg, sure, tc.pg, tc.sure)
		}
	}
}

// TestSniffPostgresConsumesNothing: over a real socket, sniffing waits for
// a startup packet sent in pieces, leaves every byte for the handler, and
// reports a silent client.
func TestSniffPostgresConsumesNothing(t *testing.T) {
	ssl := []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}
	for _, tc := range []struct {
		name   string
		peeked []byte   // already in c.Peeked
		send   [][]byte // written by the client, a pause between pieces
		pg     bool
		err    error
	}{
		{"SSLRequest in two pieces", nil, [][]byte{ssl[:3], ssl[3:]}, true, nil},
		{"SSLRequest partly peeked", ssl[:2], [][]byte{ssl[2:]}, true, nil},
		{"TLS", nil, [][]byte{{0x16, 0x03, 0x01}}, false, nil},
		{"silent", nil, nil, false, errSilent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			cli, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			srv, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			go func() {
				for _, b := range tc.send {
					cli.Write(b)
					time.Sleep(20 * time.Millisecond)
				}
			}()
			c := &l7proxy.Conn{TCPConn: srv.(*net.TCPConn), Peeked: tc.peeked}
			pg, err := sniffPostgres(c, 300*time.Millisecond)
			if pg != tc.pg || !errors.Is(err, tc.err) {
				t.Fatalf("sniffPostgres = %v, %v; want %v, %v", pg, err, tc.pg, tc.err)
			}
			var sent []byte
			for _, b := range tc.send {
				sent = append(sent, b...)
			}
			got := make([]byte, len(sent))
			_ = srv.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := io.ReadFull(srv, got); err != nil || !bytes.Equal(got, sent) {
				t.Errorf("read after sniffing: % x, %v; want % x", got, err, sent)
			}
		})
	}
}
