// SPDX-License-Identifier: Apache-2.0

// The agent's Azure clients and the credential chosen from the environment.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources/v3"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// agent holds the clients every step uses.
type agent struct {
	cred     azcore.TokenCredential
	location string
	groups   *armresources.ResourceGroupsClient
	accounts *armstorage.AccountsClient
	vaults   map[string]*azsecrets.Client // by vault name; made on first use
}

// newAgent builds the credential and the ARM clients from the environment.
func newAgent() (*agent, error) {
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	sub := os.Getenv("AZURE_SUBSCRIPTION_ID")
	if sub == "" {
		return nil, errors.New("AZURE_SUBSCRIPTION_ID is not set")
	}
	groups, err := armresources.NewResourceGroupsClient(sub, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("resource groups client: %w", err)
	}
	accounts, err := armstorage.NewAccountsClient(sub, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("storage accounts client: %w", err)
	}
	loc := os.Getenv("AZURE_LOCATION")
	if loc == "" {
		loc = "eastus"
	}
	return &agent{cred: cred, location: loc, groups: groups, accounts: accounts, vaults: map[string]*azsecrets.Client{}}, nil
}

// credential follows azidentity's environment conventions: a federated
// token file means workload identity, otherwise a client secret.
func credential() (azcore.TokenCredential, error) {
	tenant, client := os.Getenv("AZURE_TENANT_ID"), os.Getenv("AZURE_CLIENT_ID")
	if tenant == "" || client == "" {
		return nil, errors.New("AZURE_TENANT_ID and AZURE_CLIENT_ID must be set")
	}
	if file := os.Getenv("AZURE_FEDERATED_TOKEN_FILE"); file != "" {
		assertion := func(context.Context) (string, error) {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("read federated token: %w", err)
			}
			return string(b), nil
		}
		cred, err := azidentity.NewClientAssertionCredential(tenant, client, assertion, nil)
		if err != nil {
			return nil, fmt.Errorf("client assertion credential: %w", err)
		}
		return cred, nil
	}
	secret := os.Getenv("AZURE_CLIENT_SECRET")
	if secret == "" {
		return nil, errors.New("set AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE")
	}
	cred, err := azidentity.NewClientSecretCredential(tenant, client, secret, nil)
	if err != nil {
		return nil, fmt.Errorf("client secret credential: %w", err)
	}
	return cred, nil
}

// vault returns the secrets client of https://NAME.vault.azure.net/.
func (a *agent) vault(name string) (*azsecrets.Client, error) {
	if c, ok := a.vaults[name]; ok {
		return c, nil
	}
	c, err := azsecrets.NewClient("https://"+name+".vault.azure.net/", a.cred, nil)
	if err != nil {
		return nil, fmt.Errorf("secrets client: %w", err)
	}
	a.vaults[name] = c
	return c, nil
}
