// SPDX-License-Identifier: Apache-2.0

// Enroll: exchange a bootstrap token and two CSRs for the node's
// certificates, once; later starts reuse what was saved.

package controlclient

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// EnrollConfig is what a first enrolment needs besides Config.Server.
type EnrollConfig struct {
	// StateDir is the node's state directory (created 0700). Required.
	StateDir string
	// NodeName names the node to people. Required.
	NodeName string
	// BootstrapToken is the one-time token from `interlock control token`.
	BootstrapToken string
	// ControlCA is the PEM bundle that verifies the control plane at
	// enrolment (the control plane's pki/ca.crt); there is no trust on
	// first use.
	ControlCA []byte
}

// Enroll returns the node's identity from ec.StateDir, enrolling with the
// control plane at cfg.Server first if the directory holds none. The keys
// are made and written (0600) before the call, so an enrolment cut short
// retries with the same keys; node.json is written last and marks the
// enrolment complete. The bootstrap token is used only when enrolling.
func Enroll(ctx context.Context, cfg Config, ec EnrollConfig) (*Identity, error) {
	if ec.StateDir == "" {
		return nil, fmt.Errorf("controlclient: enroll: no state directory")
	}
	id, err := LoadIdentity(ec.StateDir)
	if err == nil || !errors.Is(err, ErrNotEnrolled) {
		return id, err
	}
	if ec.NodeName == "" || ec.BootstrapToken == "" || len(ec.ControlCA) == 0 {
		return nil, fmt.Errorf("controlclient: enroll: a new node needs a name, a bootstrap token and the control CA")
	}
	roots, err := poolOf(ec.ControlCA)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(ec.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("controlclient: enroll: %w", err)
	}
	clientKey, err := loadOrCreateKey(filepath.Join(ec.StateDir, ClientKeyFile))
	if err != nil {
		return nil, err
	}
	caKey, err := loadOrCreateKey(filepath.Join(ec.StateDir, CAKeyFile))
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: ec.NodeName}
	clientCSR, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, clientKey)
	if err != nil {
		return nil, fmt.Errorf("controlclient: enroll: csr: %w", err)
	}
	caCSR, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, caKey)
	if err != nil {
		return nil, fmt.Errorf("controlclient: enroll: csr: %w", err)
	}

	cc, err := cfg.dial(roots, nil)
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	resp, err := interlockv1.NewNodeServiceClient(cc).Enroll(ctx, &interlockv1.EnrollRequest{
		NodeName: ec.NodeName, BootstrapToken: ec.BootstrapToken, ClientCsr: clientCSR, CaCsr: caCSR,
	})
	if err != nil {
		return nil, fmt.Errorf("controlclient: enroll: %w", err)
	}
	clientCert, err := x509.ParseCertificate(resp.GetClientCert())
	if err != nil || !samePublicKey(clientCert, clientKey) {
		return nil, fmt.Errorf("controlclient: enroll: the control plane returned a client certificate not for our key")
	}
	nodeCA, err := x509.ParseCertificate(resp.GetNodeCa())
	if err != nil || !samePublicKey(nodeCA, caKey) || !nodeCA.IsCA {
		return nil, fmt.Errorf("controlclient: enroll: the control plane returned a node CA not for our key")
	}
	if _, err := poolOf(resp.GetControlCa()); err != nil {
		return nil, err
	}
	info, err := json.Marshal(nodeInfo{NodeID: resp.GetNodeId(), NodeName: ec.NodeName})
	if err != nil {
		return nil, fmt.Errorf("controlclient: enroll: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{ClientCertFile, certPEM(resp.GetClientCert())},
		{CACertFile, certPEM(resp.GetNodeCa())},
		{ControlCAFile, resp.GetControlCa()},
		{WorkloadCAFile, resp.GetWorkloadCa()},
		{NodeFile, info}, // last: marks the enrolment complete
	} {
		if err := writeFileAtomic(filepath.Join(ec.StateDir, f.name), f.data, 0o644); err != nil {
			return nil, fmt.Errorf("controlclient: enroll: %w", err)
		}
	}
	return LoadIdentity(ec.StateDir)
}
