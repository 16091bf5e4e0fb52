// SPDX-License-Identifier: Apache-2.0

// The control plane's Deployment, Service and PVC, the starter policy,
// the ServiceMonitor and the example workload.

package deploy

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func TestControlPlane(t *testing.T) {
	objs := build(t, "kubernetes/overlays/aks")
	d := find[*appsv1.Deployment](t, objs, "interlock-control")
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %v, strategy %s: the store is single-writer, want 1 and Recreate", d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	ps := d.Spec.Template.Spec
	if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
		t.Error("control plane may run as root")
	}
	c := container(t, ps.Containers, "control")
	args := argMap(c.Args)
	m := mount(t, ps, c, args["data-dir"])
	var claim string
	for _, v := range ps.Volumes {
		if v.Name == m.Name && v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	pvc := find[*corev1.PersistentVolumeClaim](t, objs, claim)
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "interlock-retain" {
		t.Errorf("aks: PVC storage class %v, want interlock-retain", pvc.Spec.StorageClassName)
	}
	if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("control container security context %+v: want no capabilities and no escalation", sc)
	}
	if !strings.HasPrefix(args["listen"], "0.0.0.0:") {
		t.Errorf("--listen=%s: the Service cannot reach it", args["listen"])
	}
	svc := find[*corev1.Service](t, objs, "interlock-control")
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("Service selects %s=%s, the pods have %q", k, v, d.Spec.Template.Labels[k])
		}
	}
	for _, p := range svc.Spec.Ports {
		cp := portByName(c, p.TargetPort.String())
		if cp == nil || !strings.HasSuffix(args["listen"], ":"+itoa(cp.ContainerPort)) {
			t.Errorf("Service port %s does not reach --listen=%s", p.TargetPort.String(), args["listen"])
		}
	}
	if !slices.Contains(c.Args, "--server-name="+svc.Name+"."+svc.Namespace+".svc") {
		t.Errorf("the server certificate does not name the Service %s.%s.svc", svc.Name, svc.Namespace)
	}
}

// TestPodSpecRules checks, in every pod of every kustomization, the
// security rules the API server enforces that the Go types do not.
func TestPodSpecRules(t *testing.T) {
	for _, dir := range kustomizations {
		for _, o := range build(t, dir) {
			var ps corev1.PodSpec
			switch o := o.(type) {
			case *appsv1.DaemonSet:
				ps = o.Spec.Template.Spec
			case *appsv1.Deployment:
				ps = o.Spec.Template.Spec
			default:
				continue
			}
			for _, c := range append(slices.Clone(ps.InitContainers), ps.Containers...) {
				where := dir + ": " + meta(o).Name + "/" + c.Name
				sc := c.SecurityContext
				privileged := sc != nil && sc.Privileged != nil && *sc.Privileged
				for _, m := range c.VolumeMounts {
					if m.MountPropagation != nil && *m.MountPropagation == corev1.MountPropagationBidirectional && !privileged {
						t.Errorf("%s: Bidirectional propagation is only allowed in privileged containers", where)
					}
				}
				if sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
					if privileged || (sc.Capabilities != nil && slices.Contains(sc.Capabilities.Add, "SYS_ADMIN")) {
						t.Errorf("%s: allowPrivilegeEscalation false with privileged or CAP_SYS_ADMIN is rejected", where)
					}
				}
				if c.Image == "" || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") {
					t.Errorf("%s: image %q has no tag", where, c.Image)
				}
				if strings.HasPrefix(c.Image, "ghcr.io/interlockhq/interlock") && !strings.HasPrefix(c.Image, "ghcr.io/interlockhq/interlock:") {
					t.Errorf("%s: image %q", where, c.Image)
				}
			}
		}
	}
}

func TestStarterPolicyLoads(t *testing.T) {
	objs := build(t, "kubernetes/base")
	var cm *corev1.ConfigMap
	for _, c := range all[*corev1.ConfigMap](objs) {
		if strings.HasPrefix(c.Name, "interlock-policy") {
			cm = c
		}
	}
	if cm == nil {
		t.Fatal("no interlock-policy ConfigMap")
	}
	b, err := policy.Load([]policy.Document{{Name: "policy.yaml", YAML: []byte(cm.Data["policy.yaml"])}}, policy.Options{})
	if err != nil {
		t.Fatalf("starter policy: %v", err)
	}
	// ARM and Key Vault take v1.0 tokens (AZURE-NOTES.md).
	for _, is := range b.Issuers() {
		if !strings.HasPrefix(is.Issuer, "https://sts.windows.net/") || !slices.Contains([]string{"https://management.core.windows.net/", "https://vault.azure.net"}, is.Audience) {
			t.Errorf("issuer %+v: want a v1 issuer with the resource as audience", is)
		}
	}
	if b.DefaultAction() != policy.Deny {
		t.Errorf("default action %s, want deny", b.DefaultAction())
	}
}

func TestServiceMonitor(t *testing.T) {
	objs := build(t, "kubernetes/overlays/prometheus-operator")
	sm := find[*serviceMonitor](t, objs, "interlock-node")
	svc := find[*corev1.Service](t, objs, "interlock-node-metrics")
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, the Service has %q", k, v, svc.Labels[k])
		}
	}
	if !slices.Contains(sm.Spec.NamespaceSelector.MatchNames, svc.Namespace) {
		t.Errorf("ServiceMonitor looks in %v, the Service is in %s", sm.Spec.NamespaceSelector.MatchNames, svc.Namespace)
	}
	ds := find[*appsv1.DaemonSet](t, objs, "interlock-node")
	for k, v := range svc.Spec.Selector {
		if ds.Spec.Template.Labels[k] != v {
			t.Errorf("metrics Service selects %s=%s, the node pods have %q", k, v, ds.Spec.Template.Labels[k])
		}
	}
	for _, e := range sm.Spec.Endpoints {
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == e.Port }) {
			t.Errorf("endpoint port %q is not a port of %s", e.Port, svc.Name)
		}
		if e.Path != "/metrics" {
			t.Errorf("endpoint path %q", e.Path)
		}
	}
	if find[*corev1.Namespace](t, build(t, "kubernetes/base"), "interlock-system") == nil || len(all[*serviceMonitor](build(t, "kubernetes/base"))) != 0 {
		t.Error("the base must apply without the ServiceMonitor CRD")
	}
}

// TestExampleWorkload: the example agent is selected by the node agent and
// trusts the CA bundle through SSL_CERT_FILE.
func TestExampleWorkload(t *testing.T) {
	objs := build(t, "kubernetes/overlays/dev")
	d := find[*appsv1.Deployment](t, objs, "example-agent")
	ds := find[*appsv1.DaemonSet](t, objs, "interlock-node")
	selected := false
	for _, a := range container(t, ds.Spec.Template.Spec.Containers, "node").Args {
		sel, ok := strings.CutPrefix(a, "--pods=")
		if !ok {
			continue
		}
		ns, labels, _ := strings.Cut(sel, ":")
		match := ns == "" || ns == d.Namespace
		for kv := range strings.SplitSeq(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			match = match && (kv == "" || d.Spec.Template.Labels[k] == v)
		}
		selected = selected || match
	}
	if !selected {
		t.Errorf("no --pods selects the example agent (labels %v)", d.Spec.Template.Labels)
	}
	ps := d.Spec.Template.Spec
	c := ps.Containers[0]
	var certFile string
	for _, e := range c.Env {
		if e.Name == "SSL_CERT_FILE" {
			certFile = e.Value
		}
	}
	var found bool
	for _, m := range c.VolumeMounts {
		key, ok := strings.CutPrefix(certFile, m.MountPath+"/")
		if !ok {
			continue
		}
		for _, v := range ps.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				cm := find[*corev1.ConfigMap](t, objs, v.ConfigMap.Name)
				_, found = cm.Data[key]
			}
		}
	}
	if !found {
		t.Errorf("SSL_CERT_FILE=%q is not a key of a mounted ConfigMap", certFile)
	}
}
