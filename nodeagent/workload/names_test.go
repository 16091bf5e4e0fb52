// SPDX-License-Identifier: Apache-2.0

// Pure naming rules: kubepods paths per driver and QoS class, UIDs,
// container cgroup names, cgroup paths from config, unit names, listen
// addresses, config validation and Key diffs.

package workload

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestPodDir(t *testing.T) {
	const uid = "2a1ee8e5-1b6f-4c4e-9d7a-8f3b2c1d0e9f"
	const u = "2a1ee8e5_1b6f_4c4e_9d7a_8f3b2c1d0e9f"
	tests := []struct {
		d    driver
		qos  QOSClass
		want string
	}{
		{driverCgroupfs, QOSGuaranteed, "kubepods/pod" + uid},
		{driverCgroupfs, QOSBurstable, "kubepods/burstable/pod" + uid},
		{driverCgroupfs, QOSBestEffort, "kubepods/besteffort/pod" + uid},
		{driverSystemd, QOSGuaranteed, "kubepods.slice/kubepods-pod" + u + ".slice"},
		{driverSystemd, QOSBurstable, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u + ".slice"},
		{driverSystemd, QOSBestEffort, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + u + ".slice"},
	}
	for _, tt := range tests {
		if got := tt.d.podDir(uid, tt.qos); got != tt.want {
			t.Errorf("%s %s: podDir = %s, want %s", tt.d, tt.qos, got, tt.want)
		}
	}
	for _, qos := range []QOSClass{"", QOSGuaranteed, QOSBurstable, QOSBestEffort} {
		order := qosOrder(qos)
		if len(order) != 3 || (qos != "" && order[0] != qos) {
			t.Errorf("qosOrder(%q) = %v", qos, order)
		}
		for _, c := range []QOSClass{QOSGuaranteed, QOSBurstable, QOSBestEffort} {
			if !slices.Contains(order, c) {
				t.Errorf("qosOrder(%q) = %v lacks %s", qos, order, c)
			}
		}
	}
}

func TestValidUID(t *testing.T) {
	for uid, want := range map[string]bool{
		"2a1ee8e5-1b6f-4c4e-9d7a-8f3b2c1d0e9f": true,
		"6c1a1e0cb7fb4bbd8f5e3b9a8e0d1c2f":     true, // a static pod's config hash
		"":                                     false,
		"../../system.slice":                   false,
		"a/b":                                  false,
		"a b":                                  false,
	} {
		if got := validUID(uid); got != want {
			t.Errorf("validUID(%q) = %v, want %v", uid, got, want)
		}
	}
}

func TestContainerRank(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for name, want := range map[string]int{
		"cri-containerd-" + id + ".scope": 0,
		"crio-" + id + ".scope":           0,
		"docker-" + id + ".scope":         0,
		id:                                0,
		"crio-conmon-" + id + ".scope":    -1,
		"something-else":                  1,
		id[:63]:                           1,
	} {
		if got := containerRank(name); got != want {
			t.Errorf("containerRank(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestInRoot(t *testing.T) {
	const root = "/sys/fs/cgroup/unified"
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/sys/fs/cgroup/unified/system.slice/a.service", "/sys/fs/cgroup/unified/system.slice/a.service", true},
		{"/system.slice/a.service", "/sys/fs/cgroup/unified/system.slice/a.service", true},
		{"system.slice/a.service", "/sys/fs/cgroup/unified/system.slice/a.service", true},
		{"", root, true},
		{"/", root, true},
		{"/sys/fs/cgroup/unifiedX", "/sys/fs/cgroup/unified/sys/fs/cgroup/unifiedX", true},
		{"../../etc", "", false},
		{"a/../../..", "", false},
	}
	for _, tt := range tests {
		got, err := inRoot(root, tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("inRoot(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestUnitName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"agent.service", "agent.service"},
		{"agent", "agent.service"},
		{"run-r1.scope", "run-r1.scope"},
		{"", ""},
		{"../x.service", ""},
		{"a/b.service", ""},
		{".service", ""},
	}
	for _, tt := range tests {
		got, err := unitName(tt.in)
		if (err == nil) != (tt.want != "") || got != tt.want {
			t.Errorf("unitName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFindUnitDir(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{
		"system.slice/a.service",
		"user.slice/user-1000.slice/user@1000.service/app.slice/b.service",
		"kubepods.slice/c.service",
		"1/2/3/4/5/6/d.service",
	} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for unit, want := range map[string]string{
		"a.service": "system.slice/a.service",
		"b.service": "user.slice/user-1000.slice/user@1000.service/app.slice/b.service",
		"c.service": "", // never inside kubepods
		"d.service": "", // too deep
		"e.service": "",
	} {
		got, err := findUnitDir(t.Context(), root, unit, maxUnitDepth)
		if err != nil {
			t.Fatal(err)
		}
		if want != "" {
			want = filepath.Join(root, want)
		}
		if got != want {
			t.Errorf("findUnitDir(%s) = %q, want %q", unit, got, want)
		}
	}
}

func TestCheckListenAddr(t *testing.T) {
	tests := []struct {
		network, addr string
		ok            bool
	}{
		{"tcp", "127.0.0.1:15001", true},
		{"tcp6", "[::1]:0", true},
		{"tcp", ":15001", true},
		{"tcp", "localhost:15001", false},
		{"tcp", "127.0.0.1", false},
		{"unix", "@interlock", true},
		{"udp", "127.0.0.1:53", false},
	}
	for _, tt := range tests {
		if err := checkListenAddr(tt.network, tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkListenAddr(%s, %s) = %v, want ok %v", tt.network, tt.addr, err, tt.ok)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	src := newStaticPods()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"empty", Config{}, true},
		{"vms", Config{VMs: []VM{{Name: "a", Cgroup: "x"}, {Name: "b", Unit: "b"}}}, true},
		{"pods", Config{Pods: src, Selectors: []Selector{{Namespace: "a"}}}, true},
		{"pods without selectors", Config{Pods: src}, true},
		{"no name", Config{VMs: []VM{{Cgroup: "x"}}}, false},
		{"duplicate", Config{VMs: []VM{{Name: "a", Cgroup: "x"}, {Name: "a", Cgroup: "y"}}}, false},
		{"neither", Config{VMs: []VM{{Name: "a"}}}, false},
		{"both", Config{VMs: []VM{{Name: "a", Cgroup: "x", Unit: "u"}}}, false},
		{"bad unit", Config{VMs: []VM{{Name: "a", Unit: "a/b"}}}, false},
		{"selectors without source", Config{Selectors: []Selector{{}}}, false},
		{"bad selector", Config{Pods: src, Selectors: []Selector{{MatchExpressions: []Requirement{{Key: "k", Operator: OpIn}}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.validate(); (err == nil) != tt.ok {
				t.Errorf("validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := Workload{Kind: KindPod, Name: "a", Namespace: "n", PodUID: "1", CgroupID: 10, NetnsInode: 100, Labels: map[string]string{"x": "1"}}
	aRelabelled := a
	aRelabelled.Labels = map[string]string{"x": "2"}
	aNewSandbox := a
	aNewSandbox.NetnsInode = 101
	vm := Workload{Kind: KindVM, Name: "vm", CgroupID: 20}
	vmRestarted := vm
	vmRestarted.CgroupID = 21
	m := func(ws ...Workload) map[string]Workload {
		r := make(map[string]Workload)
		for _, w := range ws {
			r[w.Key()] = w
		}
		return r
	}
	tests := []struct {
		name           string
		cur, next      map[string]Workload
		added, removed []string
	}{
		{"none", m(a, vm), m(a, vm), nil, nil},
		{"labels only", m(a), m(aRelabelled), nil, nil},
		{"new sandbox", m(a), m(aNewSandbox), []string{aNewSandbox.Key()}, []string{a.Key()}},
		{"unit restarted", m(vm), m(vmRestarted), []string{vmRestarted.Key()}, []string{vm.Key()}},
		{"added and removed", m(a), m(vm), []string{vm.Key()}, []string{a.Key()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, removed := diff(tt.cur, tt.next)
			var gotA, gotR []string
			for _, w := range added {
				gotA = append(gotA, w.Key())
			}
			for _, w := range removed {
				gotR = append(gotR, w.Key())
			}
			if !slices.Equal(gotA, tt.added) || !slices.Equal(gotR, tt.removed) {
				t.Errorf("diff = %v, %v; want %v, %v", gotA, gotR, tt.added, tt.removed)
			}
		})
	}
}
