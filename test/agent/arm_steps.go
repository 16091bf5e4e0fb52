// SPDX-License-Identifier: Apache-2.0

// Resource Manager steps: resource groups and storage accounts.

package main

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources/v3"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage/v2"
)

// group is a resource group as the agent prints it.
type group struct {
	Name              string `json:"name"`
	Location          string `json:"location"`
	ProvisioningState string `json:"provisioningState,omitempty"`
}

// account is a storage account as the agent prints it.
type account struct {
	Name              string `json:"name"`
	ResourceGroup     string `json:"resourceGroup"`
	Location          string `json:"location"`
	ProvisioningState string `json:"provisioningState,omitempty"`
}

// key is a storage account key as the agent prints it.
type key struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func listGroups(ctx context.Context, a *agent, _ []string) (any, error) {
	groups := []group{}
	pager := a.groups.NewListPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Value {
			groups = append(groups, toGroup(g))
		}
	}
	return groups, nil
}

func createGroup(ctx context.Context, a *agent, args []string) (any, error) {
	resp, err := a.groups.CreateOrUpdate(ctx, args[0], armresources.ResourceGroup{Location: to.Ptr(a.location)}, nil)
	if err != nil {
		return nil, err
	}
	return toGroup(&resp.ResourceGroup), nil
}

func deleteGroup(ctx context.Context, a *agent, args []string) (any, error) {
	poller, err := a.groups.BeginDelete(ctx, args[0], nil)
	if err != nil {
		return nil, err
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		return nil, err
	}
	return struct {
		Name    string `json:"name"`
		Deleted bool   `json:"deleted"`
	}{args[0], true}, nil
}

func listStorage(ctx context.Context, a *agent, _ []string) (any, error) {
	accounts := []account{}
	pager := a.accounts.NewListPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, acc := range page.Value {
			accounts = append(accounts, toAccount(acc))
		}
	}
	return accounts, nil
}

func createStorage(ctx context.Context, a *agent, args []string) (any, error) {
	params := armstorage.AccountCreateParameters{
		Kind:     to.Ptr(armstorage.KindStorageV2),
		Location: to.Ptr(a.location),
		SKU:      &armstorage.SKU{Name: to.Ptr(armstorage.SKUNameStandardLRS)},
		Properties: &armstorage.AccountPropertiesCreateParameters{
			MinimumTLSVersion:      to.Ptr(armstorage.MinimumTLSVersionTLS12),
			AllowBlobPublicAccess:  to.Ptr(false),
			EnableHTTPSTrafficOnly: to.Ptr(true),
		},
	}
	poller, err := a.accounts.BeginCreate(ctx, args[0], args[1], params, nil)
	if err != nil {
		return nil, err
	}
	resp, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		return nil, err
	}
	return toAccount(&resp.Account), nil
}

func listKeys(ctx context.Context, a *agent, args []string) (any, error) {
	resp, err := a.accounts.ListKeys(ctx, args[0], args[1], nil)
	if err != nil {
		return nil, err
	}
	return toKeys(resp.Keys), nil
}

func regenerateKey(ctx context.Context, a *agent, args []string) (any, error) {
	resp, err := a.accounts.RegenerateKey(ctx, args[0], args[1], armstorage.AccountRegenerateKeyParameters{KeyName: to.Ptr(args[2])}, nil)
	if err != nil {
		return nil, err
	}
	return toKeys(resp.Keys), nil
}

func toGroup(g *armresources.ResourceGroup) group {
	out := group{Name: deref(g.Name), Location: deref(g.Location)}
	if g.Properties != nil {
		out.ProvisioningState = deref(g.Properties.ProvisioningState)
	}
	return out
}

func toAccount(acc *armstorage.Account) account {
	out := account{Name: deref(acc.Name), Location: deref(acc.Location)}
	if acc.ID != nil {
		if id, err := arm.ParseResourceID(*acc.ID); err == nil {
			out.ResourceGroup = id.ResourceGroupName
		}
	}
	if acc.Properties != nil && acc.Properties.ProvisioningState != nil {
		out.ProvisioningState = string(*acc.Properties.ProvisioningState)
	}
	return out
}

func toKeys(keys []*armstorage.AccountKey) []key {
	out := []key{}
	for _, k := range keys {
		out = append(out, key{Name: deref(k.KeyName), Value: deref(k.Value)})
	}
	return out
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
