// SPDX-License-Identifier: Apache-2.0

// Package kube lists the pods of this node from the Kubernetes API, for
// workload discovery (a workload.PodSource). It speaks the API's REST
// interface directly — one list call with a field selector — instead of
// pulling in client-go for it.
//
// In a cluster, NewInCluster reads the service account's token and CA and
// the API server's address from the standard locations; the node agent's
// service account needs get/list on pods (deploy/kubernetes has the RBAC).
package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/interlockhq/interlock/nodeagent/workload"
)

// Service account files mounted into every pod.
const (
	saDir     = "/var/run/secrets/kubernetes.io/serviceaccount"
	tokenFile = saDir + "/token"
	caFile    = saDir + "/ca.crt"
)

// configHashAnnotation holds a static pod's config hash, which the kubelet
// uses instead of the API's UID to name the pod's cgroup.
const configHashAnnotation = "kubernetes.io/config.hash"

// maxListBytes bounds a pod list response.
const maxListBytes = 64 << 20

// PodSource lists the pods bound to one node.
type PodSource struct {
	// Server is the API server's base URL, e.g. https://10.0.0.1:443.
	Server string
	// Node is this node's name (spec.nodeName of its pods).
	Node string
	// TokenFile holds the bearer token; it is re-read on every call, since
	// projected tokens rotate.
	TokenFile string
	// Client is the HTTP client, with the API server's CA.
	Client *http.Client
}

// NewInCluster returns a PodSource for node with the pod's service account.
func NewInCluster(node string) (*PodSource, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("kube: not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)")
	}
	if node == "" {
		return nil, errors.New("kube: node name is empty (set it from spec.nodeName with the downward API)")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("kube: no certificate in %s", caFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &PodSource{
		Server:    "https://" + net.JoinHostPort(host, port),
		Node:      node,
		TokenFile: tokenFile,
		Client:    &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}, nil
}

// podList is the part of a v1 PodList that discovery needs.
type podList struct {
	Items []struct {
		Metadata struct {
			UID         string            `json:"uid"`
			Name        string            `json:"name"`
			Namespace   string            `json:"namespace"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec struct {
			NodeName           string `json:"nodeName"`
			ServiceAccountName string `json:"serviceAccountName"`
		} `json:"spec"`
		Status struct {
			QOSClass string `json:"qosClass"`
		} `json:"status"`
	} `json:"items"`
}

// Pods lists the pods on the node.
func (s *PodSource) Pods(ctx context.Context) ([]workload.Pod, error) {
	q := url.Values{"fieldSelector": {"spec.nodeName=" + s.Node}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.Server, "/")+"/api/v1/pods?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if s.TokenFile != "" {
		tok, err := os.ReadFile(s.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("kube: token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("kube: list pods: %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxListBytes)
	if resp.StatusCode != http.StatusOK {
		var st struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(body).Decode(&st)
		return nil, fmt.Errorf("kube: list pods on %s: %s: %s", s.Node, resp.Status, st.Message)
	}
	var list podList
	if err := json.NewDecoder(body).Decode(&list); err != nil {
		return nil, fmt.Errorf("kube: decode pod list: %w", err)
	}
	pods := make([]workload.Pod, 0, len(list.Items))
	for _, it := range list.Items {
		uid := it.Metadata.UID
		if h := it.Metadata.Annotations[configHashAnnotation]; h != "" {
			uid = h // a static pod's cgroup is named after its config hash
		}
		pods = append(pods, workload.Pod{
			UID: uid, Name: it.Metadata.Name, Namespace: it.Metadata.Namespace, Labels: it.Metadata.Labels,
			ServiceAccount: it.Spec.ServiceAccountName, QOSClass: workload.QOSClass(it.Status.QOSClass),
			NodeName: it.Spec.NodeName,
		})
	}
	return pods, nil
}
