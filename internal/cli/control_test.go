// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// TestControlCommand runs `interlock control` on loopback and talks to it
// with the files it prints.
func TestControlCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"control", "--listen", "127.0.0.1:0", "--data-dir", dir}, strings.NewReader(""), &out, &errb)
	}()
	re := regexp.MustCompile(`listening on (\S+)\nadmin credential: (\S+)\nCA certificate: (\S+)\n`)
	waitFor(t, 10*time.Second, "the control plane to listen", func() bool { return re.MatchString(out.String()) })
	m := re.FindStringSubmatch(out.String())
	addr, tokenFile, caFile := m[1], m[2], m[3]
	if tokenFile != filepath.Join(dir, "admin.token") || caFile != filepath.Join(dir, "pki", "ca.crt") {
		t.Errorf("printed %s and %s", tokenFile, caFile)
	}
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin token file: %v, %v", fi.Mode(), err)
	}
	run := func(args ...string) (string, error) {
		var o, e syncBuffer
		args = append(args, "--server", addr, "--ca", caFile, "--token-file", tokenFile)
		err := Run(context.Background(), args, strings.NewReader(""), &o, &e)
		return o.String(), err
	}
	if out, err := run("sessions", "list"); err != nil || !strings.HasPrefix(out, "SESSION") {
		t.Errorf("sessions list as local admin = %q, %v", out, err)
	}
	// On a single machine the local admin is the only person: it may
	// also approve and audit.
	if out, err := run("approvals", "list"); err != nil || !strings.HasPrefix(out, "ID") {
		t.Errorf("approvals list as local admin = %q, %v", out, err)
	}

	// A bootstrap token from `control token` enrols... exactly once.
	var tokOut, e syncBuffer
	if err := Run(context.Background(), []string{"control", "token", "--data-dir", dir, "--ttl", "1h"}, strings.NewReader(""), &tokOut, &e); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(tokOut.String())
	if !strings.HasPrefix(tok, "ilbt_") {
		t.Fatalf("token = %q", tok)
	}
	pemBytes, _ := os.ReadFile(caFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_, err = interlockv1.NewNodeServiceClient(cc).Enroll(ctx, &interlockv1.EnrollRequest{NodeName: "vm1", BootstrapToken: tok, ClientCsr: []byte("x"), CaCsr: []byte("x")})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("Enroll with junk CSRs = %v, want InvalidArgument", err)
	}

	// The real policy engine checks pushes.
	admin, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})),
		grpc.WithPerRPCCredentials(bearerToken(strings.TrimSpace(readFile(t, tokenFile)))))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	_, err = interlockv1.NewPolicyServiceClient(admin).Push(ctx, &interlockv1.PushPolicyRequest{
		Documents: []*interlockv1.PolicyDocument{{Name: "bad.yaml", Yaml: []byte("apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: x}\nrules:\n  - name: r\n    when: 'arm.operation =='\n    action: deny\ndefaultAction: deny\n")}},
	})
	st := status.Convert(err)
	var problems []*interlockv1.PolicyProblem
	for _, d := range st.Details() {
		if p, ok := d.(*interlockv1.PolicyProblems); ok {
			problems = p.GetProblems()
		}
	}
	if st.Code() != codes.InvalidArgument || len(problems) == 0 || problems[0].GetDocument() != "bad.yaml" || problems[0].GetLine() == 0 {
		t.Errorf("push of a policy that does not compile = %v, problems %v", err, problems)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("control ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("control did not stop")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestControlUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"control", "--oidc-role", "boss=groups:x", "--data-dir", "unused"}, "--oidc-role"},
		{[]string{"control", "--oidc-issuer", "https://issuer.example.test", "--data-dir", "unused"}, "go together"},
		{[]string{"control", "--listen", "nonsense", "--data-dir", "unused"}, `--listen "nonsense"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var o, e syncBuffer
			err := Run(context.Background(), tt.args, strings.NewReader(""), &o, &e)
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a usage error naming %s", err, tt.want)
			}
		})
	}
}
