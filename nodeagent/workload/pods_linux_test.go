// SPDX-License-Identifier: Apache-2.0

// Scanning pods in a simulated kubepods tree: both cgroup drivers, every
// QoS class, every container runtime's naming, selection by namespace and
// labels, network namespaces from real processes in podsim pods.

package workload

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/test/podsim"
)

// simPod is a pod of the test: its API object, its cgroup and the podsim
// pod whose namespace its containers are in (nil: the host's).
type simPod struct {
	pod    Pod
	dir    string
	netns  *podsim.Workload
	wantIn bool // expected among the scan's workloads
}

func TestScanPods(t *testing.T) {
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			testScanPods(t, d)
		})
	}
}

func testScanPods(t *testing.T, d driver) {
	k := newKubesim(t, d)
	ns := "agents-" + randHex(3)
	selected := map[string]string{"app": "agent", "tier": "web"}
	mk := func(name, namespace string, labels map[string]string, qos QOSClass) Pod {
		return Pod{UID: newUID(), Name: name, Namespace: namespace, Labels: labels,
			ServiceAccount: name + "-sa", QOSClass: qos, NodeName: "node-a"}
	}
	var pods []*simPod
	// One selected pod per QoS class, each in its own podsim pod's
	// namespace, with containers named as each runtime names them. The
	// BestEffort one does not tell its class.
	for _, c := range []struct {
		qos, told QOSClass
		styles    []string
	}{
		{QOSGuaranteed, QOSGuaranteed, []string{"containerd", "containerd"}},
		{QOSBurstable, QOSBurstable, []string{"conmon", "crio"}},
		{QOSBestEffort, "", []string{"docker", "bare"}},
	} {
		p := &simPod{pod: mk("agent-"+string(c.qos), ns, selected, c.told), wantIn: true}
		p.netns = podsim.Start(t, podsim.Options{Name: "kubesim"})
		p.dir = k.podCgroup(t, p.pod.UID, c.qos)
		for _, style := range c.styles {
			dir := container(t, p.dir, style)
			if style == "conmon" {
				runIn(t, nil, dir) // CRI-O's monitor is in the host's namespace
			} else {
				runIn(t, p.netns, dir)
			}
		}
		pods = append(pods, p)
	}
	// A selected pod on the host network.
	hostPod := &simPod{pod: mk("host-agent", ns, selected, QOSBurstable), wantIn: true}
	hostPod.dir = k.podCgroup(t, hostPod.pod.UID, QOSBurstable)
	runIn(t, nil, container(t, hostPod.dir, "containerd"))
	pods = append(pods, hostPod)
	// Running pods that are not selected: another namespace, other labels,
	// another node.
	for _, p := range []Pod{
		mk("other-ns", "default", selected, QOSBurstable),
		mk("other-labels", ns, map[string]string{"app": "agent", "tier": "system"}, QOSBurstable),
		mk("no-labels", ns, nil, QOSBurstable),
	} {
		sp := &simPod{pod: p}
		sp.dir = k.podCgroup(t, p.UID, QOSBurstable)
		runIn(t, nil, container(t, sp.dir, "containerd"))
		pods = append(pods, sp)
	}
	away := &simPod{pod: mk("elsewhere", ns, selected, QOSBurstable)}
	away.pod.NodeName = "node-b"
	pods = append(pods, away)
	// Selected pods that are not ready: no cgroup yet; a cgroup whose
	// container has no process yet.
	pods = append(pods, &simPod{pod: mk("no-cgroup", ns, selected, QOSGuaranteed)})
	// A selected pod whose lookup fails (a UID that would be a path): it is
	// reported, the others are found.
	bad := &simPod{pod: mk("bad-uid", ns, selected, QOSBurstable)}
	bad.pod.UID = "../../" + bad.pod.UID
	pods = append(pods, bad)
	starting := &simPod{pod: mk("starting", ns, selected, QOSBestEffort)}
	starting.dir = k.podCgroup(t, starting.pod.UID, QOSBestEffort)
	container(t, starting.dir, "containerd")
	pods = append(pods, starting)

	var logs syncBuffer
	src := newStaticPods()
	for _, p := range pods {
		src.pods = append(src.pods, p.pod)
	}
	s, err := NewScanner(Config{
		Pods:     src,
		NodeName: "node-a",
		Selectors: []Selector{{
			Namespace:        ns,
			MatchLabels:      map[string]string{"app": "agent"},
			MatchExpressions: []Requirement{{Key: "tier", Operator: OpNotIn, Values: []string{"system"}}},
		}, {
			Namespace:        ns,
			MatchExpressions: []Requirement{{Key: "tier", Operator: OpIn, Values: []string{"never"}}},
		}},
		KubeletCgroupRoot: k.rel,
		Logger:            slogTo(&logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Scan(t.Context())
	t.Logf("scan log:\n%s", logs.String())
	if !strings.Contains(logs.String(), "bad pod uid") {
		t.Error("the pod with a bad UID was not reported")
	}
	if err != nil {
		t.Fatal(err)
	}
	byUID := make(map[string]Workload)
	for _, w := range got {
		byUID[w.PodUID] = w
	}
	var want int
	for _, p := range pods {
		w, ok := byUID[p.pod.UID]
		if ok != p.wantIn {
			t.Errorf("pod %s: found = %v, want %v", p.pod.Name, ok, p.wantIn)
			continue
		}
		if !ok {
			continue
		}
		want++
		if w.Kind != KindPod || w.Name != p.pod.Name || w.Namespace != p.pod.Namespace ||
			w.ServiceAccount != p.pod.ServiceAccount || !maps.Equal(w.Labels, p.pod.Labels) || w.Unit != "" {
			t.Errorf("pod %s: got %+v", p.pod.Name, w)
		}
		wantCgroup(t, w, p.dir)
		if p.netns == nil {
			if w.NetnsPath != "" || w.NetnsInode != 0 {
				t.Errorf("host-network pod %s: NetnsPath %q inode %d, want none", p.pod.Name, w.NetnsPath, w.NetnsInode)
			}
			continue
		}
		podIno := inodeOf(t, p.netns.NetnsPath())
		if w.NetnsInode != podIno || inodeOf(t, w.NetnsPath) != podIno {
			t.Errorf("pod %s: netns %s (inode %d), want the podsim pod's, inode %d", p.pod.Name, w.NetnsPath, w.NetnsInode, podIno)
		}
	}
	if len(got) != want {
		t.Errorf("Scan = %s, want %d workloads", keys(got), want)
	}
	if !slices.IsSortedFunc(got, func(a, b Workload) int { return compareKeys(a, b) }) {
		t.Errorf("Scan not sorted by Key: %s", keys(got))
	}
	// The scanner keeps its own copy of labels.
	if len(got) > 0 {
		got[0].Labels["app"] = "changed"
		if pods[0].pod.Labels["app"] == "changed" {
			t.Error("Workload.Labels shares the PodSource's map")
		}
	}
	if _, err := os.Stat(k.root); err != nil {
		t.Fatal(err)
	}
}

func compareKeys(a, b Workload) int {
	switch {
	case a.Key() < b.Key():
		return -1
	case a.Key() > b.Key():
		return 1
	}
	return 0
}
