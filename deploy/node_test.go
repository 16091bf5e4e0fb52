// SPDX-License-Identifier: Apache-2.0

// The node agent's DaemonSet and RBAC: what the manifest comments promise.

package deploy

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// nodeCaps are the node agent's capabilities, as node-daemonset.yaml
// explains each.
var nodeCaps = []corev1.Capability{"BPF", "NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"}

func TestNodeDaemonSet(t *testing.T) {
	for _, dir := range []string{"kubernetes/base", "kubernetes/overlays/aks", "kubernetes/overlays/dev"} {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			ds := find[*appsv1.DaemonSet](t, objs, "interlock-node")
			ps := ds.Spec.Template.Spec
			if !ps.HostPID || !ps.HostNetwork {
				t.Errorf("hostPID %v, hostNetwork %v: want both", ps.HostPID, ps.HostNetwork)
			}
			if ps.PriorityClassName != "system-node-critical" {
				t.Errorf("priorityClassName %q", ps.PriorityClassName)
			}
			if !slices.ContainsFunc(ps.Tolerations, func(tl corev1.Toleration) bool {
				return tl.Key == "" && tl.Operator == corev1.TolerationOpExists && tl.Effect == ""
			}) {
				t.Errorf("tolerations %v: want one that tolerates every taint", ps.Tolerations)
			}
			us := ds.Spec.UpdateStrategy
			if us.Type != appsv1.RollingUpdateDaemonSetStrategyType || us.RollingUpdate == nil ||
				us.RollingUpdate.MaxUnavailable.String() != "1" || us.RollingUpdate.MaxSurge.String() != "0" {
				t.Errorf("updateStrategy %+v: want RollingUpdate, maxUnavailable 1, maxSurge 0", us)
			}
			c := container(t, ps.Containers, "node")
			sc := c.SecurityContext
			if sc == nil || sc.Capabilities == nil {
				t.Fatal("node container without capabilities")
			}
			if !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Errorf("drop %v, want [ALL]", sc.Capabilities.Drop)
			}
			if !slices.Equal(sc.Capabilities.Add, nodeCaps) {
				t.Errorf("add %v, want exactly %v", sc.Capabilities.Add, nodeCaps)
			}
			if sc.Privileged != nil && *sc.Privileged {
				t.Error("node container is privileged")
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("node container: root filesystem not read-only")
			}
			for _, a := range c.Args {
				if strings.HasPrefix(a, "--detach-on-exit") && dir != "kubernetes/overlays/detach" {
					t.Errorf("%s: upgrades must keep interception pinned", a)
				}
			}
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
				t.Error("preStop hook: SIGTERM alone drains and keeps the pins (see the manifest)")
			}

			// Mounts: the host's cgroup2 read-only, its bpffs shared from
			// the host, the API socket's directory.
			m := mount(t, ps, c, "/sys/fs/cgroup")
			if !m.ReadOnly || hostPath(t, ps, m.Name) != "/sys/fs/cgroup" {
				t.Errorf("/sys/fs/cgroup: readOnly %v from %q", m.ReadOnly, hostPath(t, ps, m.Name))
			}
			m = mount(t, ps, c, "/sys/fs/bpf")
			if hostPath(t, ps, m.Name) != "/sys/fs/bpf" || m.MountPropagation == nil || *m.MountPropagation != corev1.MountPropagationHostToContainer {
				t.Errorf("/sys/fs/bpf in the agent: %+v, want the host's with HostToContainer", m)
			}
			bidi := false
			for _, ic := range ps.InitContainers {
				for _, im := range ic.VolumeMounts {
					if im.Name == m.Name && im.MountPropagation != nil && *im.MountPropagation == corev1.MountPropagationBidirectional {
						bidi = true
					}
				}
			}
			if !bidi {
				t.Error("no init container mounts bpffs with Bidirectional propagation: a bpffs it mounts would not reach the host")
			}
			if hostPath(t, ps, mount(t, ps, c, "/run/interlock").Name) != "/run/interlock" {
				t.Error("/run/interlock is not the host's")
			}
			mount(t, ps, c, "/var/lib/interlock")

			// The args against the mounts, env and ports they rely on.
			args := argMap(c.Args)
			if args["kube-node"] != "$(NODE_NAME)" || envField(c, "NODE_NAME") != "spec.nodeName" {
				t.Errorf("--kube-node=%s, NODE_NAME from %q: want $(NODE_NAME) from spec.nodeName", args["kube-node"], envField(c, "NODE_NAME"))
			}
			for _, v := range regexp.MustCompile(`\$\(([A-Z_]+)\)`).FindAllStringSubmatch(strings.Join(c.Args, " "), -1) {
				if envField(c, v[1]) == "" {
					t.Errorf("$(%s) in args is not set from the downward API", v[1])
				}
			}
			if !strings.HasPrefix(args["pin-dir"], "/sys/fs/bpf/") {
				t.Errorf("--pin-dir=%s is not on the bpffs mount", args["pin-dir"])
			}
			if !strings.HasPrefix(args["socket"], "/run/interlock/") {
				t.Errorf("--socket=%s is not in the /run/interlock mount", args["socket"])
			}
			_, port, _ := strings.Cut(args["metrics-listen"], ":")
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("readiness probe %+v: want GET /readyz", c.ReadinessProbe)
			} else if p := portByName(c, c.ReadinessProbe.HTTPGet.Port.String()); p == nil || port != itoa(p.ContainerPort) {
				t.Errorf("readiness probe port %s is not --metrics-listen's %s", c.ReadinessProbe.HTTPGet.Port.String(), port)
			}
			drain, err := time.ParseDuration(args["drain-timeout"])
			if err != nil {
				t.Fatalf("--drain-timeout: %v", err)
			}
			if grace := time.Duration(*ps.TerminationGracePeriodSeconds) * time.Second; grace < drain+5*time.Second {
				t.Errorf("grace period %v leaves no time after --drain-timeout %v", grace, drain)
			}

			// RBAC: read pods, nothing else, for this service account.
			role := find[*rbacv1.ClusterRole](t, objs, "interlock-node")
			want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}}
			if len(role.Rules) != 1 || !slices.Equal(role.Rules[0].APIGroups, want[0].APIGroups) ||
				!slices.Equal(role.Rules[0].Resources, want[0].Resources) || !slices.Equal(role.Rules[0].Verbs, want[0].Verbs) {
				t.Errorf("ClusterRole rules %+v, want %+v", role.Rules, want)
			}
			b := find[*rbacv1.ClusterRoleBinding](t, objs, "interlock-node")
			if b.RoleRef.Name != role.Name || len(b.Subjects) != 1 || b.Subjects[0].Kind != "ServiceAccount" ||
				b.Subjects[0].Name != ps.ServiceAccountName || b.Subjects[0].Namespace != ds.Namespace {
				t.Errorf("binding %+v does not bind %s to %s/%s", b, role.Name, ds.Namespace, ps.ServiceAccountName)
			}
			find[*corev1.ServiceAccount](t, objs, ps.ServiceAccountName)
			ns := find[*corev1.Namespace](t, objs, ds.Namespace)
			if ns.Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
				t.Errorf("namespace %s: pod security %q would reject the agent", ns.Name, ns.Labels["pod-security.kubernetes.io/enforce"])
			}
		})
	}
}

func container(t *testing.T, cs []corev1.Container, name string) corev1.Container {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

func mount(t *testing.T, ps corev1.PodSpec, c corev1.Container, path string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m
		}
	}
	t.Fatalf("container %s does not mount %s", c.Name, path)
	return corev1.VolumeMount{}
}

func hostPath(t *testing.T, ps corev1.PodSpec, volume string) string {
	t.Helper()
	for _, v := range ps.Volumes {
		if v.Name == volume && v.HostPath != nil {
			return v.HostPath.Path
		}
	}
	return ""
}

// envField returns the downward API field an env var comes from.
func envField(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			return e.ValueFrom.FieldRef.FieldPath
		}
	}
	return ""
}

func portByName(c corev1.Container, name string) *corev1.ContainerPort {
	for i, p := range c.Ports {
		if p.Name == name || itoa(p.ContainerPort) == name {
			return &c.Ports[i]
		}
	}
	return nil
}

// argMap maps --name=value args to their values (the last one wins).
func argMap(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		if name, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && strings.HasPrefix(a, "--") {
			m[name] = v
		}
	}
	return m
}
