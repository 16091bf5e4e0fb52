// SPDX-License-Identifier: Apache-2.0

// Pods as a PodSource reports them, and the source interface itself.

package workload

import "context"

// QOSClass is a pod's Kubernetes QoS class (status.qosClass). It says under
// which kubepods sub-hierarchy the kubelet put the pod's cgroup.
type QOSClass string

// The QoS classes. The zero value means unknown: every class is tried.
const (
	QOSGuaranteed QOSClass = "Guaranteed"
	QOSBurstable  QOSClass = "Burstable"
	QOSBestEffort QOSClass = "BestEffort"
)

// Pod is what the scanner needs to know about a pod.
type Pod struct {
	// UID is the UID the kubelet names the pod's cgroup after. For a static
	// pod this is the kubelet's config hash (the mirror pod's
	// kubernetes.io/config.mirror annotation), not the mirror pod's
	// metadata.uid. Only [0-9A-Za-z-_] is accepted.
	UID            string
	Name           string
	Namespace      string
	Labels         map[string]string
	ServiceAccount string
	QOSClass       QOSClass
	// NodeName is spec.nodeName. When Config.NodeName is set, pods bound
	// to another node are ignored.
	NodeName string
}

// PodSource lists the pods of this node, e.g. from the Kubernetes API
// (fieldSelector spec.nodeName=NODE) or the kubelet. Pods is called once
// per scan, from one goroutine at a time; the scanner does not keep or
// modify the returned slice or maps beyond the call.
type PodSource interface {
	Pods(ctx context.Context) ([]Pod, error)
}
