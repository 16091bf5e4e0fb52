// SPDX-License-Identifier: Apache-2.0

// Building the kustomizations and decoding their objects strictly into
// the Kubernetes API types.

package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizations are the directories that `kubectl apply -k` takes.
var kustomizations = []string{
	"kubernetes/base",
	"kubernetes/overlays/dev",
	"kubernetes/overlays/aks",
	"kubernetes/overlays/prometheus-operator",
	"kubernetes/overlays/detach",
	"kubernetes/examples/agent",
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor
// that the overlay uses; its Go types are not in k8s.io/api, and a field
// not listed here fails the strict decode.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path,omitempty"`
			Interval string `json:"interval,omitempty"`
			Scheme   string `json:"scheme,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// newObject returns an empty value of the Go type for apiVersion and kind.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, nil
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "apps/v1 DaemonSet":
		return &appsv1.DaemonSet{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "rbac.authorization.k8s.io/v1 ClusterRole":
		return &rbacv1.ClusterRole{}, nil
	case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}, nil
	case "storage.k8s.io/v1 StorageClass":
		return &storagev1.StorageClass{}, nil
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &serviceMonitor{}, nil
	}
	return nil, fmt.Errorf("no Go type for %s %s: add it to newObject", apiVersion, kind)
}

// build runs kustomize on dir and decodes every object strictly.
func build(t *testing.T, dir string) []any {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Clean(dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []any
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, r.CurId(), err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(y, &tm); err != nil {
			t.Fatalf("%s: %s: %v", dir, r.CurId(), err)
		}
		obj, err := newObject(tm.APIVersion, tm.Kind)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if err := decodeStrict(y, obj); err != nil {
			t.Fatalf("%s: %s %s does not decode strictly: %v\n%s", dir, tm.Kind, r.GetName(), err, y)
		}
		objs = append(objs, obj)
	}
	return objs
}

func TestKustomizationsDecodeStrictly(t *testing.T) {
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			if len(objs) == 0 {
				t.Fatal("no objects")
			}
			seen := map[string]bool{}
			for _, o := range objs {
				m := meta(o)
				if m.Name == "" {
					t.Errorf("%T without a name", o)
				}
				id := fmt.Sprintf("%T %s/%s", o, m.Namespace, m.Name)
				if seen[id] {
					t.Errorf("%s twice", id)
				}
				seen[id] = true
			}
		})
	}
}

// decodeStrict decodes YAML into obj as the API server's strict field
// validation does: field names match case-sensitively (encoding/json would
// take hostPid for hostPID), and unknown or duplicate fields are errors.
func decodeStrict(y []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(y)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// TestStrictDecodeCatchesMisspelling makes sure the decoding above would
// notice a misspelt field.
func TestStrictDecodeCatchesMisspelling(t *testing.T) {
	y := []byte("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      hostPid: true\n")
	if err := decodeStrict(y, &appsv1.DaemonSet{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("hostPid")) {
		t.Fatalf("strict decode of hostPid: got %v, want an unknown field error", err)
	}
}

// meta returns an object's ObjectMeta.
func meta(o any) metav1.ObjectMeta {
	if sm, ok := o.(*serviceMonitor); ok {
		return sm.ObjectMeta
	}
	return *o.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
}

// find returns the object of type T named name, or fails.
func find[T any](t *testing.T, objs []any, name string) T {
	t.Helper()
	for _, o := range objs {
		if v, ok := o.(T); ok && meta(o).Name == name {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T %s", zero, name)
	return zero
}

// all returns the objects of type T.
func all[T any](objs []any) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
