// SPDX-License-Identifier: Apache-2.0

package kube

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/nodeagent/workload"
)

// podListJSON is a trimmed v1 PodList as the API server returns it: a
// regular pod and a static (mirror) pod.
const podListJSON = `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"4711"},"items":[
{"metadata":{"name":"agent-0","namespace":"ai","uid":"6b1d1c1e-1f2a-4c3b-9d8e-7f6a5b4c3d2e","labels":{"app":"agent"}},
 "spec":{"nodeName":"node-a","serviceAccountName":"agent"},"status":{"phase":"Running","qosClass":"Burstable"}},
{"metadata":{"name":"etcd-node-a","namespace":"kube-system","uid":"0c6a1b2d-0000-4000-8000-000000000001",
 "annotations":{"kubernetes.io/config.hash":"5e0c1d2f3a4b5c6d7e8f9a0b1c2d3e4f"}},
 "spec":{"nodeName":"node-a"},"status":{"qosClass":"BestEffort"}}]}`

func TestPods(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("tok-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/pods" || r.URL.Query().Get("fieldSelector") != "spec.nodeName=node-a" {
			http.Error(w, `{"message":"unexpected request"}`, http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"kind":"Status","message":"Unauthorized"}`))
			return
		}
		w.Write([]byte(podListJSON))
	}))
	defer srv.Close()
	src := &PodSource{Server: srv.URL, Node: "node-a", TokenFile: token, Client: srv.Client()}
	pods, err := src.Pods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []workload.Pod{
		{UID: "6b1d1c1e-1f2a-4c3b-9d8e-7f6a5b4c3d2e", Name: "agent-0", Namespace: "ai", Labels: map[string]string{"app": "agent"},
			ServiceAccount: "agent", QOSClass: workload.QOSBurstable, NodeName: "node-a"},
		{UID: "5e0c1d2f3a4b5c6d7e8f9a0b1c2d3e4f", Name: "etcd-node-a", Namespace: "kube-system", QOSClass: workload.QOSBestEffort, NodeName: "node-a"},
	}
	if len(pods) != len(want) {
		t.Fatalf("got %d pods, want %d: %+v", len(pods), len(want), pods)
	}
	for i := range want {
		g, w := pods[i], want[i]
		if g.UID != w.UID || g.Name != w.Name || g.Namespace != w.Namespace || g.ServiceAccount != w.ServiceAccount ||
			g.QOSClass != w.QOSClass || g.NodeName != w.NodeName || g.Labels["app"] != w.Labels["app"] {
			t.Errorf("pod %d = %+v, want %+v", i, g, w)
		}
	}

	if err := os.WriteFile(token, []byte("expired"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Pods(t.Context()); err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("with a bad token: %v, want the API's 401 and message", err)
	}
}

func TestNewInClusterOutside(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := NewInCluster("node-a"); err == nil || !strings.Contains(err.Error(), "not in a cluster") {
		t.Errorf("NewInCluster outside a cluster = %v", err)
	}
}
