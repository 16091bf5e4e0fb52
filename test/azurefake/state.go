// SPDX-License-Identifier: Apache-2.0

// The in-memory state behind ARM and Key Vault: groups, storage accounts,
// long-running operations and vaults.

package azurefake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"
)

// state is guarded by mu; every method takes it.
type state struct {
	mu       sync.Mutex
	groups   map[string]*group      // by lower-case name
	accounts map[string]*account    // by lower-case name: names are global
	ops      map[string]*operation  // by ID
	vaults   map[string]*vaultState // by lower-case name
}

type group struct {
	name, location string
	tags           map[string]string
	deleting       bool
}

type account struct {
	group, name, location, kind, sku string
	created                          time.Time
	creating                         bool
	keys                             [2]accountKey
}

type accountKey struct {
	name, value string
	created     time.Time
}

type vaultState struct {
	name    string
	secrets map[string][]*secretVersion // by lower-case name, oldest first
}

type secretVersion struct {
	name, version, value, contentType string
	tags                              map[string]string
	created                           time.Time
}

func newState(o Options) (*state, error) {
	st := &state{
		groups:   map[string]*group{},
		accounts: map[string]*account{},
		ops:      map[string]*operation{},
		vaults:   map[string]*vaultState{},
	}
	for _, g := range o.ResourceGroups {
		st.groups[strings.ToLower(g)] = &group{name: g, location: o.Location}
	}
	for _, a := range o.StorageAccounts {
		if a.ResourceGroup == "" || a.Name == "" {
			return nil, fmt.Errorf("storage account %q: resource group and name are required", a.Name)
		}
		if _, ok := st.groups[strings.ToLower(a.ResourceGroup)]; !ok {
			st.groups[strings.ToLower(a.ResourceGroup)] = &group{name: a.ResourceGroup, location: o.Location}
		}
		loc := a.Location
		if loc == "" {
			loc = o.Location
		}
		st.accounts[strings.ToLower(a.Name)] = newAccount(a.ResourceGroup, a.Name, loc, a.Kind, a.SKU)
	}
	for _, v := range o.Vaults {
		st.vaults[strings.ToLower(v)] = &vaultState{name: strings.ToLower(v), secrets: map[string][]*secretVersion{}}
	}
	for _, sec := range o.Secrets {
		v, ok := st.vaults[strings.ToLower(sec.Vault)]
		if !ok {
			return nil, fmt.Errorf("secret %q: vault %q is not in Options.Vaults", sec.Name, sec.Vault)
		}
		v.set(sec.Name, sec.Value, "", nil)
	}
	return st, nil
}

func (st *state) hasVault(name string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.vaults[name]
	return ok
}

// newAccount makes an account with fresh keys.
func newAccount(rg, name, location, kind, sku string) *account {
	if kind == "" {
		kind = "StorageV2"
	}
	if sku == "" {
		sku = "Standard_LRS"
	}
	now := time.Now().UTC()
	return &account{
		group: rg, name: name, location: location, kind: kind, sku: sku, created: now,
		keys: [2]accountKey{
			{name: "key1", value: newAccountKey(), created: now},
			{name: "key2", value: newAccountKey(), created: now},
		},
	}
}

// newAccountKey returns a storage account key: 64 random bytes, base64
// (88 characters).
func newAccountKey() string {
	var b [64]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// set adds a new version of a secret; the caller holds st.mu (or owns v).
func (v *vaultState) set(name, value, contentType string, tags map[string]string) *secretVersion {
	sv := &secretVersion{
		name: name, version: strings.ReplaceAll(newGUID(), "-", ""), value: value,
		contentType: contentType, tags: tags, created: time.Now().UTC(),
	}
	key := strings.ToLower(name)
	v.secrets[key] = append(v.secrets[key], sv)
	return sv
}
