// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/nodeagent"
)

func TestNodeFlags(t *testing.T) {
	tests := []struct {
		name    string
		f       nodeFlags
		wantErr string
		check   func(t *testing.T, f nodeFlags)
	}{
		{name: "defaults", f: nodeFlags{ports: []uint{443, 5432}}, check: func(t *testing.T, f nodeFlags) {
			cfg, _ := f.config()
			if len(cfg.BPF.Ports) != 2 || cfg.BPF.Ports[0] != 443 || cfg.BPF.Ports[1] != 5432 {
				t.Errorf("ports = %v", cfg.BPF.Ports)
			}
		}},
		{name: "workloads and units", f: nodeFlags{workloads: []string{"a=/sys/fs/cgroup/a", "b=rel/b"}, units: []string{"c=agent.service"}, failOpen: []string{"b"}},
			check: func(t *testing.T, f nodeFlags) {
				cfg, _ := f.config()
				vms := cfg.Discovery.VMs
				if len(vms) != 3 || vms[0].Cgroup != "/sys/fs/cgroup/a" || vms[1].Cgroup != "rel/b" || vms[2].Unit != "agent.service" {
					t.Errorf("VMs = %+v", vms)
				}
				if len(cfg.FailOpen) != 1 || cfg.FailOpen[0] != "b" {
					t.Errorf("FailOpen = %v", cfg.FailOpen)
				}
			}},
		{name: "prefixes", f: nodeFlags{intercept: []string{"20.0.0.0/8"}, skip: []string{"20.1.0.0/16", "::1/128"}}, check: func(t *testing.T, f nodeFlags) {
			cfg, _ := f.config()
			if len(cfg.BPF.Intercept) != 1 || len(cfg.BPF.Skip) != 2 {
				t.Errorf("intercept %v skip %v", cfg.BPF.Intercept, cfg.BPF.Skip)
			}
		}},
		{name: "bad workload", f: nodeFlags{workloads: []string{"noequals"}}, wantErr: `--workload "noequals": want NAME=CGROUP`},
		{name: "bad unit", f: nodeFlags{units: []string{"=x.service"}}, wantErr: `--unit "=x.service"`},
		{name: "bad port", f: nodeFlags{ports: []uint{70000}}, wantErr: "--ports: 70000 is not a port"},
		{name: "bad prefix", f: nodeFlags{skip: []string{"10.0.0.0/33"}}, wantErr: `--skip "10.0.0.0/33"`},
		{name: "pods without node", f: nodeFlags{pods: []string{"ai"}}, wantErr: "--pods needs --kube-node"},
		{name: "pods outside a cluster", f: nodeFlags{kubeNode: "n1", pods: []string{"ai:app=agent"}}, wantErr: "not in a cluster"},
		{name: "bad pod labels", f: nodeFlags{kubeNode: "n1", pods: []string{"ai:app"}}, wantErr: "labels are KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.f.kubeNode != "" {
				t.Setenv("KUBERNETES_SERVICE_HOST", "")
			}
			_, err := tt.f.config()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, tt.f)
		})
	}
}

func TestExecUsage(t *testing.T) {
	for _, args := range [][]string{
		{"exec", "--", "true"},
		{"exec", "--workload", "w", "true"},
	} {
		_, _, err := run(t, args...)
		var usage *UsageError
		if !errors.As(err, &usage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestNodeConfigEnrolment(t *testing.T) {
	dir := t.TempDir()
	f := nodeFlags{control: "127.0.0.1:7443", stateDir: dir, nodeName: "n1"}
	_, err := f.nodeConfig(nodeagent.Config{})
	var usage *UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "not enrolled yet") {
		t.Fatalf("unenrolled node without token: %v", err)
	}
	tok := filepath.Join(dir, "token")
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(tok, []byte("tok-123\n"), 0o600)
	os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644)
	f.tokenFile, f.controlCA = tok, ca
	nc, err := f.nodeConfig(nodeagent.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if nc.Enroll.BootstrapToken != "tok-123" || nc.Enroll.NodeName != "n1" || nc.Control.Server != "127.0.0.1:7443" || len(nc.Enroll.ControlCA) == 0 {
		t.Errorf("node config = %+v", nc)
	}
}
