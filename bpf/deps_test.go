// SPDX-License-Identifier: Apache-2.0

// deps_test.go guards the package boundary: bpf/ never pulls in gRPC.

package bpf

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/test/testenv"
)

func TestDeps(t *testing.T) {
	forbidden := []string{"google.golang.org/grpc", "google.golang.org/protobuf"}
	for _, goos := range []string{"linux", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", ".")
			cmd.Env = append(cmd.Environ(), "GOOS="+goos)
			out, err := cmd.Output()
			if err != nil {
				if _, lerr := exec.LookPath("go"); lerr != nil {
					testenv.Skip(t, "no go command: %v", lerr)
				}
				t.Fatalf("go list: %v", err)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("bpf depends on %s", dep)
					}
				}
			}
		})
	}
}
