// SPDX-License-Identifier: Apache-2.0

// Resource Manager URLs as the SDKs and the azure-rest-api-specs examples
// send them, each checked field by field.

package azure

import "testing"

const (
	rgp   = S + "/resourceGroups/rg1/providers/"
	rgpl  = S + "/resourcegroups/rg1/providers/"
	acct  = rgp + "Microsoft.Storage/storageAccounts/acct1"
	vm    = rgp + "Microsoft.Compute/virtualMachines/vm1"
	site  = rgp + "Microsoft.Web/sites/app1"
	vnet  = rgp + "Microsoft.Network/virtualNetworks/vnet1"
	dep   = rgpl + "microsoft.resources/deployments/dep1" // as in the async-operations doc
	raID  = "/providers/Microsoft.Authorization/roleAssignments/05c5a614-a7d6-4502-b150-c2fb455033ff"
	vRes  = "2025-04-01"
	vStor = "2025-01-01"
	vCmp  = "2024-07-01"
	vNet  = "2024-05-01"
	vWeb  = "2024-04-01"
	vKV   = "2024-11-01"
	vAuth = "2022-04-01"
)

func api(v string) string { return "api-version=" + v }

func TestParseARM(t *testing.T) {
	const (
		res  = "Microsoft.Resources"
		stor = "Microsoft.Storage"
		cmp  = "Microsoft.Compute"
		net  = "Microsoft.Network"
		web  = "Microsoft.Web"
		kv   = "Microsoft.KeyVault"
		auth = "Microsoft.Authorization"
		rgT  = "subscriptions/resourceGroups"
	)
	cases := []parseCase{
		// Resource groups, as armresources sends them (lower-case resourcegroups).
		{method: "GET", path: S + "/resourcegroups", query: api(vRes), sub: sub, provider: res, typ: rgT, action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read", scope: S},
		{method: "GET", path: S + "/resourcegroups/rg1", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},
		{method: "HEAD", path: S + "/resourcegroups/rg1", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},
		{method: "PUT", path: S + "/resourcegroups/rg1", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "write", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/write"},
		{method: "PATCH", path: S + "/resourceGroups/rg1", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "write", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/write"},
		{method: "DELETE", path: S + "/resourcegroups/rg1", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "delete", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/delete"},
		{method: "DELETE", path: S + "/resourcegroups/rg1", query: api(vRes) + "&forceDeletionTypes=Microsoft.Compute/virtualMachines", sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "delete", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/delete"},
		{method: "POST", path: S + "/resourceGroups/rg1/moveResources", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "moveResources", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/moveResources/action"},
		{method: "POST", path: S + "/resourceGroups/rg1/validateMoveResources", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "validateMoveResources", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/validateMoveResources/action"},
		{method: "GET", path: S + "/resourceGroups/rg1/resources", query: api(vRes) + "&$top=100", sub: sub, rg: "rg1", provider: res, typ: "subscriptions/resourceGroups/resources", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/resources/read"},
		{method: "GET", path: S + "/resourceGroups/my%20rg%C3%A9", query: api(vRes), sub: sub, rg: "my rgé", provider: res, typ: rgT, name: "my rgé", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},
		{method: "GET", path: S + "/resourcegroups", query: api(vRes) + "&%24skiptoken=eyJuZXh0IjoxMDB9", sub: sub, provider: res, typ: rgT, action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},

		// Subscription level.
		{method: "GET", path: "/subscriptions", query: api("2022-12-01"), provider: res, typ: "subscriptions", action: "read", version: "2022-12-01", operation: "Microsoft.Resources/subscriptions/read", scope: "-"},
		{method: "GET", path: S, query: api("2022-12-01"), sub: sub, provider: res, typ: "subscriptions", name: sub, action: "read", version: "2022-12-01", operation: "Microsoft.Resources/subscriptions/read"},
		{method: "GET", path: S + "/locations", query: api("2022-12-01"), sub: sub, provider: res, typ: "subscriptions/locations", action: "read", version: "2022-12-01", operation: "Microsoft.Resources/subscriptions/locations/read"},
		{method: "GET", path: S + "/resources", query: api(vRes) + "&$filter=resourceType%20eq%20%27Microsoft.Storage%2FstorageAccounts%27", sub: sub, provider: res, typ: "subscriptions/resources", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resources/read"},
		{method: "GET", path: S + "/operationresults/eyJqb2JJZCI6IlJFU09VUkNFR1JPVVBERUxFVElPTkpPQi1SRzEiLCJqb2JMb2NhdGlvbiI6ImVhc3R1cyJ9", query: api(vRes), sub: sub, provider: res, typ: "subscriptions/operationresults", name: "eyJqb2JJZCI6IlJFU09VUkNFR1JPVVBERUxFVElPTkpPQi1SRzEiLCJqb2JMb2NhdGlvbiI6ImVhc3R1cyJ9", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/operationresults/read", poll: true, scope: S},
		{method: "GET", path: S + "/tagNames", query: api(vRes), sub: sub, provider: res, typ: "subscriptions/tagNames", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/tagNames/read"},
		{method: "PUT", path: S + "/tagNames/env/tagValues/prod", query: api(vRes), sub: sub, provider: res, typ: "subscriptions/tagNames/tagValues", name: "prod", action: "write", version: vRes, operation: "Microsoft.Resources/subscriptions/tagNames/tagValues/write"},

		// Tenant level and the provider registry.
		{method: "GET", path: "/tenants", query: api("2022-12-01"), provider: res, typ: "tenants", action: "read", version: "2022-12-01", operation: "Microsoft.Resources/tenants/read"},
		{method: "GET", path: "/providers", query: api(vRes), provider: res, typ: "providers", action: "read", version: vRes, operation: "Microsoft.Resources/providers/read"},
		{method: "GET", path: "/providers/Microsoft.Compute", query: api(vRes), provider: res, typ: "providers", name: "Microsoft.Compute", action: "read", version: vRes, operation: "Microsoft.Resources/providers/read"},
		{method: "GET", path: "/providers/Microsoft.Storage/operations", query: api(vStor), provider: stor, typ: "operations", action: "read", version: vStor, operation: "Microsoft.Storage/operations/read", scope: "-"},
		{method: "GET", path: S + "/providers", query: api(vRes) + "&$expand=resourceTypes/aliases", sub: sub, provider: res, typ: "subscriptions/providers", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/providers/read"},
		{method: "GET", path: S + "/providers/Microsoft.Compute", query: api(vRes), sub: sub, provider: res, typ: "subscriptions/providers", name: "Microsoft.Compute", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/providers/read"},
		{method: "POST", path: S + "/providers/Microsoft.Compute/register", query: api(vRes), sub: sub, provider: cmp, action: "register", version: vRes, operation: "Microsoft.Compute/register/action", scope: S},
		{method: "POST", path: S + "/providers/Microsoft.Storage/unregister", query: api(vRes), sub: sub, provider: stor, action: "unregister", version: vRes, operation: "Microsoft.Storage/unregister/action"},
		{method: "POST", path: S + "/providers/Microsoft.Storage/checkNameAvailability", query: api(vStor), sub: sub, provider: stor, typ: "checkNameAvailability", action: "read", version: vStor, operation: "Microsoft.Storage/checkNameAvailability/read"},
		{method: "POST", path: S + "/providers/Microsoft.KeyVault/checkNameAvailability", query: api(vKV), sub: sub, provider: kv, typ: "checkNameAvailability", action: "read", version: vKV, operation: "Microsoft.KeyVault/checkNameAvailability/read"},
		{method: "POST", path: S + "/providers/Microsoft.Web/checknameavailability", query: api(vWeb), sub: sub, provider: web, typ: "checknameavailability", action: "read", version: vWeb, operation: "Microsoft.Web/checknameavailability/read"},

		// Storage, as armstorage sends it.
		{method: "GET", path: S + "/providers/Microsoft.Storage/storageAccounts", query: api(vStor), sub: sub, provider: stor, typ: "storageAccounts", action: "read", version: vStor, operation: "Microsoft.Storage/storageAccounts/read"},
		{method: "GET", path: acct, query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts", name: "acct1", action: "read", version: vStor, operation: "Microsoft.Storage/storageAccounts/read", scope: S + "/resourceGroups/rg1"},
		{method: "PUT", path: acct, query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts", name: "acct1", action: "write", version: vStor, operation: "Microsoft.Storage/storageAccounts/write"},
		{method: "DELETE", path: acct, query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts", name: "acct1", action: "delete", version: vStor, operation: "Microsoft.Storage/storageAccounts/delete"},
		{method: "POST", path: acct + "/listKeys", query: api(vStor) + "&$expand=kerb", sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts", name: "acct1", action: "listKeys", version: vStor, operation: "Microsoft.Storage/storageAccounts/listKeys/action"},
		{method: "POST", path: acct + "/regenerateKey", query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts", name: "acct1", action: "regenerateKey", version: vStor, operation: "Microsoft.Storage/storageAccounts/regenerateKey/action"},
		{method: "POST", path: acct + "/ListAccountSas", query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts", name: "acct1", action: "ListAccountSas", version: vStor, operation: "Microsoft.Storage/storageAccounts/ListAccountSas/action"},
		{method: "PUT", path: acct + "/blobServices/default/containers/c1", query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts/blobServices/containers", name: "c1", action: "write", version: vStor, operation: "Microsoft.Storage/storageAccounts/blobServices/containers/write"},
		{method: "GET", path: acct + "/blobServices/default/containers", query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts/blobServices/containers", action: "read", version: vStor, operation: "Microsoft.Storage/storageAccounts/blobServices/containers/read"},
		{method: "POST", path: acct + "/blobServices/default/containers/c1/setLegalHold", query: api(vStor), sub: sub, rg: "rg1", provider: stor, typ: "storageAccounts/blobServices/containers", name: "c1", action: "setLegalHold", version: vStor, operation: "Microsoft.Storage/storageAccounts/blobServices/containers/setLegalHold/action"},
		{method: "GET", path: S + "/providers/Microsoft.Storage/locations/eastus/asyncoperations/2b0e7a3e-7e6c-4c53-9a27-0f3a3f0b8a55", query: api(vStor), sub: sub, provider: stor, typ: "locations/asyncoperations", name: "2b0e7a3e-7e6c-4c53-9a27-0f3a3f0b8a55", action: "read", version: vStor, operation: "Microsoft.Storage/locations/asyncoperations/read", poll: true},
		{method: "GET", path: S + "/providers/Microsoft.Storage/operations/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", query: "monitor=true&" + api("2019-06-01"), sub: sub, provider: stor, typ: "operations", name: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", action: "read", version: "2019-06-01", operation: "Microsoft.Storage/operations/read", poll: true},

		// Compute.
		{method: "PUT", path: vm, query: api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachines", name: "vm1", action: "write", version: vCmp, operation: "Microsoft.Compute/virtualMachines/write"},
		{method: "POST", path: vm + "/start", query: api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachines", name: "vm1", action: "start", version: vCmp, operation: "Microsoft.Compute/virtualMachines/start/action"},
		{method: "POST", path: vm + "/powerOff", query: "skipShutdown=false&" + api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachines", name: "vm1", action: "powerOff", version: vCmp, operation: "Microsoft.Compute/virtualMachines/powerOff/action"},
		{method: "POST", path: vm + "/deallocate", query: api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachines", name: "vm1", action: "deallocate", version: vCmp, operation: "Microsoft.Compute/virtualMachines/deallocate/action"},
		{method: "POST", path: vm + "/runCommand", query: api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachines", name: "vm1", action: "runCommand", version: vCmp, operation: "Microsoft.Compute/virtualMachines/runCommand/action"},
		{method: "GET", path: vm + "/instanceView", query: api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachines/instanceView", action: "read", version: vCmp, operation: "Microsoft.Compute/virtualMachines/instanceView/read"},
		{method: "PUT", path: vm + "/extensions/CustomScript", query: api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachines/extensions", name: "CustomScript", action: "write", version: vCmp, operation: "Microsoft.Compute/virtualMachines/extensions/write"},
		{method: "GET", path: rgp + "Microsoft.Compute/virtualMachineScaleSets/ss1/virtualMachines/0", query: api(vCmp), sub: sub, rg: "rg1", provider: cmp, typ: "virtualMachineScaleSets/virtualMachines", name: "0", action: "read", version: vCmp, operation: "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"},
		{method: "DELETE", path: rgp + "Microsoft.Compute/disks/disk1", query: api("2024-03-02"), sub: sub, rg: "rg1", provider: cmp, typ: "disks", name: "disk1", action: "delete", version: "2024-03-02", operation: "Microsoft.Compute/disks/delete"},
		{method: "GET", path: S + "/providers/Microsoft.Compute/locations/westus/operations/9a062a88-e463-4697-bef2-fe039df73a02", query: api(vCmp), sub: sub, provider: cmp, typ: "locations/operations", name: "9a062a88-e463-4697-bef2-fe039df73a02", action: "read", version: vCmp, operation: "Microsoft.Compute/locations/operations/read", poll: true},

		// Network.
		{method: "PUT", path: vnet, query: api(vNet), sub: sub, rg: "rg1", provider: net, typ: "virtualNetworks", name: "vnet1", action: "write", version: vNet, operation: "Microsoft.Network/virtualNetworks/write"},
		{method: "PUT", path: vnet + "/subnets/default", query: api(vNet), sub: sub, rg: "rg1", provider: net, typ: "virtualNetworks/subnets", name: "default", action: "write", version: vNet, operation: "Microsoft.Network/virtualNetworks/subnets/write"},
		{method: "GET", path: vnet + "/subnets", query: api(vNet), sub: sub, rg: "rg1", provider: net, typ: "virtualNetworks/subnets", action: "read", version: vNet, operation: "Microsoft.Network/virtualNetworks/subnets/read"},
		{method: "DELETE", path: rgp + "Microsoft.Network/networkSecurityGroups/nsg1/securityRules/allow-ssh", query: api(vNet), sub: sub, rg: "rg1", provider: net, typ: "networkSecurityGroups/securityRules", name: "allow-ssh", action: "delete", version: vNet, operation: "Microsoft.Network/networkSecurityGroups/securityRules/delete"},
		{method: "POST", path: rgp + "Microsoft.Network/networkInterfaces/nic1/effectiveRouteTable", query: api(vNet), sub: sub, rg: "rg1", provider: net, typ: "networkInterfaces", name: "nic1", action: "effectiveRouteTable", version: vNet, operation: "Microsoft.Network/networkInterfaces/effectiveRouteTable/action"},
		{method: "GET", path: S + "/providers/Microsoft.Network/locations/eastus/operations/6a1f2c3d-0000-4000-8000-000000000001", query: api(vNet), sub: sub, provider: net, typ: "locations/operations", name: "6a1f2c3d-0000-4000-8000-000000000001", action: "read", version: vNet, operation: "Microsoft.Network/locations/operations/read", poll: true},
		{method: "GET", path: S + "/providers/Microsoft.Network/locations/eastus/operationResults/6a1f2c3d-0000-4000-8000-000000000001", query: api(vNet), sub: sub, provider: net, typ: "locations/operationResults", name: "6a1f2c3d-0000-4000-8000-000000000001", action: "read", version: vNet, operation: "Microsoft.Network/locations/operationResults/read", poll: true},
		{method: "GET", path: S + "/providers/Microsoft.Network/locations/eastus/CheckDnsNameAvailability", query: "domainNameLabel=myapp&" + api(vNet), sub: sub, provider: net, typ: "locations/CheckDnsNameAvailability", action: "read", version: vNet, operation: "Microsoft.Network/locations/CheckDnsNameAvailability/read"},

		// Web apps.
		{method: "GET", path: site, query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites", name: "app1", action: "read", version: vWeb, operation: "Microsoft.Web/sites/read"},
		{method: "POST", path: site + "/config/appsettings/list", query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites/config", name: "appsettings", action: "list", version: vWeb, operation: "Microsoft.Web/sites/config/list/action"},
		{method: "POST", path: site + "/config/connectionstrings/list", query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites/config", name: "connectionstrings", action: "list", version: vWeb, operation: "Microsoft.Web/sites/config/list/action"},
		{method: "PUT", path: site + "/config/appsettings", query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites/config", name: "appsettings", action: "write", version: vWeb, operation: "Microsoft.Web/sites/config/write"},
		{method: "POST", path: site + "/restart", query: "softRestart=true&" + api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites", name: "app1", action: "restart", version: vWeb, operation: "Microsoft.Web/sites/restart/action"},
		{method: "POST", path: site + "/slots/staging/config/appsettings/list", query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites/slots/config", name: "appsettings", action: "list", version: vWeb, operation: "Microsoft.Web/sites/slots/config/list/action"},
		{method: "POST", path: site + "/host/default/listkeys", query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites/host", name: "default", action: "listkeys", version: vWeb, operation: "Microsoft.Web/sites/host/listkeys/action"},
		{method: "POST", path: site + "/publishxml", query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites", name: "app1", action: "publishxml", version: vWeb, operation: "Microsoft.Web/sites/publishxml/action"},
		{method: "GET", path: site + "/operationresults/7c1e3f0a-2b4d-4e6f-8a9b-0c1d2e3f4a5b", query: api(vWeb), sub: sub, rg: "rg1", provider: web, typ: "sites/operationresults", name: "7c1e3f0a-2b4d-4e6f-8a9b-0c1d2e3f4a5b", action: "read", version: vWeb, operation: "Microsoft.Web/sites/operationresults/read", poll: true},

		// Key Vault management.
		{method: "PUT", path: rgp + "Microsoft.KeyVault/vaults/kv1", query: api(vKV), sub: sub, rg: "rg1", provider: kv, typ: "vaults", name: "kv1", action: "write", version: vKV, operation: "Microsoft.KeyVault/vaults/write"},
		{method: "PUT", path: rgp + "Microsoft.KeyVault/vaults/kv1/accessPolicies/add", query: api(vKV), sub: sub, rg: "rg1", provider: kv, typ: "vaults/accessPolicies", name: "add", action: "write", version: vKV, operation: "Microsoft.KeyVault/vaults/accessPolicies/write"},
		{method: "PUT", path: rgp + "Microsoft.KeyVault/vaults/kv1/secrets/db-password", query: api(vKV), sub: sub, rg: "rg1", provider: kv, typ: "vaults/secrets", name: "db-password", action: "write", version: vKV, operation: "Microsoft.KeyVault/vaults/secrets/write"},
		{method: "GET", path: S + "/providers/Microsoft.KeyVault/deletedVaults", query: api(vKV), sub: sub, provider: kv, typ: "deletedVaults", action: "read", version: vKV, operation: "Microsoft.KeyVault/deletedVaults/read"},
		{method: "POST", path: S + "/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/kv1/purge", query: api(vKV), sub: sub, provider: kv, typ: "locations/deletedVaults", name: "kv1", action: "purge", version: vKV, operation: "Microsoft.KeyVault/locations/deletedVaults/purge/action"},
		{method: "GET", path: S + "/providers/Microsoft.KeyVault/locations/eastus/operationResults/VVR8MDYzODQ", query: api(vKV), sub: sub, provider: kv, typ: "locations/operationResults", name: "VVR8MDYzODQ", action: "read", version: vKV, operation: "Microsoft.KeyVault/locations/operationResults/read", poll: true},

		// Role assignments and other extension resources, at every scope.
		{method: "PUT", path: S + raID, query: api(vAuth), sub: sub, provider: auth, typ: "roleAssignments", name: "05c5a614-a7d6-4502-b150-c2fb455033ff", action: "write", version: vAuth, operation: "Microsoft.Authorization/roleAssignments/write", scope: S},
		{method: "DELETE", path: S + "/resourceGroups/rg1" + raID, query: api(vAuth), sub: sub, rg: "rg1", provider: auth, typ: "roleAssignments", name: "05c5a614-a7d6-4502-b150-c2fb455033ff", action: "delete", version: vAuth, operation: "Microsoft.Authorization/roleAssignments/delete", scope: S + "/resourceGroups/rg1"},
		{method: "PUT", path: acct + raID, query: api(vAuth), sub: sub, rg: "rg1", provider: auth, typ: "roleAssignments", name: "05c5a614-a7d6-4502-b150-c2fb455033ff", action: "write", version: vAuth, operation: "Microsoft.Authorization/roleAssignments/write", scope: acct},
		{method: "PUT", path: acct + "/blobServices/default/containers/c1" + raID, query: api(vAuth), sub: sub, rg: "rg1", provider: auth, typ: "roleAssignments", name: "05c5a614-a7d6-4502-b150-c2fb455033ff", action: "write", version: vAuth, operation: "Microsoft.Authorization/roleAssignments/write", scope: acct + "/blobServices/default/containers/c1"},
		{method: "GET", path: "/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/roleAssignments", query: api(vAuth), provider: auth, typ: "roleAssignments", action: "read", version: vAuth, operation: "Microsoft.Authorization/roleAssignments/read", scope: "/providers/Microsoft.Management/managementGroups/mg1"},
		{method: "GET", path: "/providers/Microsoft.Authorization/roleAssignments", query: api(vAuth) + "&$filter=atScope()", provider: auth, typ: "roleAssignments", action: "read", version: vAuth, operation: "Microsoft.Authorization/roleAssignments/read", scope: "-"},
		{method: "GET", path: S + "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c", query: api(vAuth), sub: sub, provider: auth, typ: "roleDefinitions", name: "b24988ac-6180-42a0-ab88-20f7382dd24c", action: "read", version: vAuth, operation: "Microsoft.Authorization/roleDefinitions/read"},
		{method: "PUT", path: S + "/resourceGroups/rg1/providers/Microsoft.Authorization/locks/no-delete", query: api("2020-05-01"), sub: sub, rg: "rg1", provider: auth, typ: "locks", name: "no-delete", action: "write", version: "2020-05-01", operation: "Microsoft.Authorization/locks/write"},
		{method: "PUT", path: rgp + "Microsoft.KeyVault/vaults/kv1/providers/Microsoft.Insights/diagnosticSettings/to-law", query: api("2021-05-01-preview"), sub: sub, rg: "rg1", provider: "Microsoft.Insights", typ: "diagnosticSettings", name: "to-law", action: "write", version: "2021-05-01-preview", operation: "Microsoft.Insights/diagnosticSettings/write", scope: rgp + "Microsoft.KeyVault/vaults/kv1"},
		{method: "PATCH", path: acct + "/providers/Microsoft.Resources/tags/default", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: "tags", name: "default", action: "write", version: vRes, operation: "Microsoft.Resources/tags/write"},

		// Deployments at every scope.
		{method: "PUT", path: dep, query: api(vRes), sub: sub, rg: "rg1", provider: "microsoft.resources", typ: "deployments", name: "dep1", action: "write", version: vRes, operation: "microsoft.resources/deployments/write"},
		{method: "POST", path: rgp + "Microsoft.Resources/deployments/dep1/validate", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: "deployments", name: "dep1", action: "validate", version: vRes, operation: "Microsoft.Resources/deployments/validate/action"},
		{method: "POST", path: rgp + "Microsoft.Resources/deployments/dep1/whatIf", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: "deployments", name: "dep1", action: "whatIf", version: vRes, operation: "Microsoft.Resources/deployments/whatIf/action"},
		{method: "POST", path: rgp + "Microsoft.Resources/deployments/dep1/cancel", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: "deployments", name: "dep1", action: "cancel", version: vRes, operation: "Microsoft.Resources/deployments/cancel/action"},
		{method: "GET", path: rgp + "Microsoft.Resources/deployments/dep1/operationStatuses/08584639", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: "deployments/operationStatuses", name: "08584639", action: "read", version: vRes, operation: "Microsoft.Resources/deployments/operationStatuses/read", poll: true},
		{method: "GET", path: rgp + "Microsoft.Resources/deployments/dep1/operations", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: "deployments/operations", action: "read", version: vRes, operation: "Microsoft.Resources/deployments/operations/read"},
		{method: "GET", path: rgp + "Microsoft.Resources/deployments/dep1/operations/A1B2C3", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: "deployments/operations", name: "A1B2C3", action: "read", version: vRes, operation: "Microsoft.Resources/deployments/operations/read"},
		{method: "PUT", path: S + "/providers/Microsoft.Resources/deployments/dep1", query: api(vRes), sub: sub, provider: res, typ: "deployments", name: "dep1", action: "write", version: vRes, operation: "Microsoft.Resources/deployments/write", scope: S},
		{method: "PUT", path: "/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Resources/deployments/dep1", query: api(vRes), provider: res, typ: "deployments", name: "dep1", action: "write", version: vRes, operation: "Microsoft.Resources/deployments/write"},
		{method: "PUT", path: "/providers/Microsoft.Resources/deployments/dep1", query: api(vRes), provider: res, typ: "deployments", name: "dep1", action: "write", version: vRes, operation: "Microsoft.Resources/deployments/write", scope: "-"},
		{method: "GET", path: S + "/resourcegroups/rg1/deployments/dep1", query: api("2015-11-01"), sub: sub, rg: "rg1", provider: res, typ: "subscriptions/resourceGroups/deployments", name: "dep1", action: "read", version: "2015-11-01", operation: "Microsoft.Resources/subscriptions/resourceGroups/deployments/read"},
		{method: "GET", path: "/providers/Microsoft.Management/managementGroups/mg1", query: api("2023-04-01"), provider: "Microsoft.Management", typ: "managementGroups", name: "mg1", action: "read", version: "2023-04-01", operation: "Microsoft.Management/managementGroups/read"},

		// Host variants: port, trailing dot, case, sovereign clouds.
		{method: "GET", host: "management.azure.com:443", path: S + "/resourcegroups", query: api(vRes), sub: sub, provider: res, typ: rgT, action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},
		{method: "GET", host: "MANAGEMENT.AZURE.COM.", path: S + "/resourcegroups", query: api(vRes), sub: sub, provider: res, typ: rgT, action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},
		{method: "GET", host: "management.usgovcloudapi.net", path: S + "/RESOURCEGROUPS/rg1", query: "API-VERSION=" + vRes, sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},
		{method: "GET", host: "management.chinacloudapi.cn", path: S + "/resourcegroups/rg1/", query: api(vRes), sub: sub, rg: "rg1", provider: res, typ: rgT, name: "rg1", action: "read", version: vRes, operation: "Microsoft.Resources/subscriptions/resourceGroups/read"},
	}
	if len(cases) < 60 {
		t.Fatalf("only %d ARM cases", len(cases))
	}
	for _, c := range cases {
		if c.host == "" {
			c.host = "management.azure.com"
		}
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			c.check(t)
		})
	}
}
