// SPDX-License-Identifier: Apache-2.0

// The server certificate, its key and the CA bundle clients verify with.

package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/interlockhq/interlock/test/testca"
)

// writeTLS issues a certificate for localhost, 127.0.0.1 and names from
// ca, and writes it and its key (0600, owned by u, as postgres demands)
// and the CA bundle (0644) into the server's directory.
func (s *Server) writeTLS(ca *testca.CA, names []string, u osUser) error {
	all := []string{"localhost", Host}
	for _, n := range names {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	cert, err := ca.Issue(all...)
	if err != nil {
		return fmt.Errorf("issue server certificate: %w", err)
	}
	certPEM, keyPEM, err := testca.PEM(cert)
	if err != nil {
		return fmt.Errorf("encode server certificate: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{certFile, certPEM, 0o644},
		{keyFile, keyPEM, 0o600},
	} {
		p := filepath.Join(s.dir, f.name)
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if err := u.chown(p); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := ca.WriteBundle(s.CAFile()); err != nil {
		return fmt.Errorf("write ca bundle: %w", err)
	}
	return nil
}
