// SPDX-License-Identifier: Apache-2.0

// Key Vault steps: get, set and list secrets.

package main

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// secret is a secret as the agent prints it.
type secret struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Value   string `json:"value,omitempty"`
}

func getSecret(ctx context.Context, a *agent, args []string) (any, error) {
	c, err := a.vault(args[0])
	if err != nil {
		return nil, err
	}
	resp, err := c.GetSecret(ctx, args[1], "", nil)
	if err != nil {
		return nil, err
	}
	return secret{Name: resp.ID.Name(), Version: resp.ID.Version(), Value: deref(resp.Value)}, nil
}

func setSecret(ctx context.Context, a *agent, args []string) (any, error) {
	c, err := a.vault(args[0])
	if err != nil {
		return nil, err
	}
	resp, err := c.SetSecret(ctx, args[1], azsecrets.SetSecretParameters{Value: to.Ptr(args[2])}, nil)
	if err != nil {
		return nil, err
	}
	return secret{Name: resp.ID.Name(), Version: resp.ID.Version()}, nil
}

func listSecrets(ctx context.Context, a *agent, args []string) (any, error) {
	c, err := a.vault(args[0])
	if err != nil {
		return nil, err
	}
	names := []string{}
	pager := c.NewListSecretPropertiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Value {
			names = append(names, s.ID.Name())
		}
	}
	return names, nil
}
