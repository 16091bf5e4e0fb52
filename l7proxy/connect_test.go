// SPDX-License-Identifier: Apache-2.0

package l7proxy

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

func TestReadConnect(t *testing.T) {
	ports := []uint16{443, 5432}
	tests := []struct {
		req        string
		host       string
		port       uint16
		wantStatus int
	}{
		{"CONNECT management.azure.com:443 HTTP/1.1\r\nHost: management.azure.com:443\r\n\r\n", "management.azure.com", 443, 0},
		{"CONNECT [::1]:5432 HTTP/1.1\r\n\r\n", "::1", 5432, 0},
		{"CONNECT 10.0.0.1:22 HTTP/1.1\r\n\r\n", "", 0, http.StatusForbidden},
		{"CONNECT :443 HTTP/1.1\r\n\r\n", "", 0, http.StatusBadRequest},
		{"CONNECT host:0 HTTP/1.1\r\n\r\n", "", 0, http.StatusBadRequest},
		{"CONNECT host:99999 HTTP/1.1\r\n\r\n", "", 0, http.StatusBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "", 0, http.StatusMethodNotAllowed},
		{"\x16\x03\x01\x02\x00\x01", "", 0, http.StatusBadRequest},
		{"garbage\r\n\r\n", "", 0, http.StatusBadRequest},
	}
	for _, tt := range tests {
		host, port, err := readConnect(bufio.NewReader(strings.NewReader(tt.req)), ports)
		if tt.wantStatus != 0 {
			if err == nil || err.Status != tt.wantStatus {
				t.Errorf("%q: %v, want status %d", tt.req, err, tt.wantStatus)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("%q = %q %d %v, want %q %d", tt.req, host, port, err, tt.host, tt.port)
		}
	}
}

func FuzzReadConnect(f *testing.F) {
	f.Add("CONNECT management.azure.com:443 HTTP/1.1\r\nHost: management.azure.com:443\r\n\r\n")
	f.Add("CONNECT [::1]:5432 HTTP/1.1\r\nProxy-Authorization: Basic eA==\r\n\r\n")
	f.Add("\x16\x03\x01")
	f.Fuzz(func(t *testing.T, req string) {
		host, port, err := readConnect(bufio.NewReader(strings.NewReader(req)), []uint16{443})
		if err != nil {
			if err.Status < 400 || err.Reason == "" {
				t.Fatalf("refusal without status or reason: %+v", err)
			}
			return
		}
		if host == "" || port != 443 {
			t.Fatalf("accepted %q: host %q port %d", req, host, port)
		}
	})
}
