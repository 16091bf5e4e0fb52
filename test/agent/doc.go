// SPDX-License-Identifier: Apache-2.0

// Command agent is an unmodified "AI agent": a program written exactly the
// way Azure's own Go samples are, with azidentity, armresources,
// armstorage, azsecrets and azblob at their public-cloud defaults (port 443,
// login.microsoftonline.com, management.azure.com, NAME.vault.azure.net).
// It has no test hooks: no custom transport, no endpoint override, no
// InsecureSkipVerify. Tests and the demo point it elsewhere only from the
// outside, with a hosts file and SSL_CERT_FILE.
//
// Usage:
//
//	agent STEP [ARG...] [STEP [ARG...]]...
//
// Steps: list-groups, create-group NAME, delete-group NAME, list-storage,
// create-storage RG NAME, list-keys RG ACCOUNT, regenerate-key RG ACCOUNT
// KEYNAME, get-secret VAULT NAME, set-secret VAULT NAME VALUE,
// list-secrets VAULT, download-blob ACCOUNT CONTAINER BLOB (azblob at
// https://ACCOUNT.blob.core.windows.net/; prints the bytes read and their
// SHA-256, never the data).
//
// Environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_SUBSCRIPTION_ID, and
// either AZURE_FEDERATED_TOKEN_FILE (workload identity, a client assertion
// read from the file on every token request) or AZURE_CLIENT_SECRET.
// AZURE_LOCATION (default eastus) is where groups and accounts are created.
//
// It prints one JSON line per step, {"step":…,"args":[…],"ok":true,
// "result":…} or {"step":…,"ok":false,"error":{"status":…,"code":…,
// "message":…}}, keeps going after a failed step and exits with status 1
// if any step failed. The output shows secrets and keys as received: the
// point of the demo is what reaches the agent.
package main
