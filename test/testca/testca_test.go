// SPDX-License-Identifier: Apache-2.0

package testca

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"testing"
)

func TestIssueVerifies(t *testing.T) {
	ca, err := New("test root")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("management.azure.com", "*.vault.azure.net", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"management.azure.com", "kv1.vault.azure.net", "127.0.0.1"} {
		_, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()})
		if err != nil {
			t.Errorf("verify %s: %v", name, err)
		}
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "login.microsoftonline.com", Roots: ca.Pool()}); err == nil {
		t.Error("leaf verified for a name it was not issued for")
	}
}

func TestTLSHandshake(t *testing.T) {
	ca, err := New("test root")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("localhost")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write([]byte("ok"))
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "localhost", RootCAs: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "ok" {
		t.Fatalf("read = %q, %v", b, err)
	}
}
