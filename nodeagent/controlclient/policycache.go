// SPDX-License-Identifier: Apache-2.0

// The on-disk cache of the last good policy bundle.

package controlclient

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// readPolicyCache returns the cached bundle, or nil when there is none.
func readPolicyCache(path string) (*interlockv1.PolicyBundle, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read policy cache: %w", err)
	}
	b := &interlockv1.PolicyBundle{}
	if err := proto.Unmarshal(raw, b); err != nil {
		return nil, fmt.Errorf("read policy cache %s: %w", path, err)
	}
	return b, nil
}

// writePolicyCache replaces the cache atomically (mode 0600: policies
// name what is protected and how).
func writePolicyCache(path string, b *interlockv1.PolicyBundle) error {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		return fmt.Errorf("marshal policy cache: %w", err)
	}
	return writeFileAtomic(path, raw, 0o600)
}
