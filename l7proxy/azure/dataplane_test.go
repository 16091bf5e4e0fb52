// SPDX-License-Identifier: Apache-2.0

// Key Vault and Blob data-plane requests, as azsecrets, azkeys,
// azcertificates and azblob send them, checked field by field.

package azure

import "testing"

func TestParseKeyVault(t *testing.T) {
	const (
		kv  = "Microsoft.KeyVault"
		sec = "vaults/secrets"
		key = "vaults/keys"
		crt = "vaults/certificates"
		ver = "2026-04-01"
		v32 = "4387e9f3d6e14c459867679a90fd0f79"
	)
	q := api(ver)
	cases := []parseCase{
		{method: "GET", path: "/secrets/db-password/", provider: kv, typ: sec, name: "db-password", action: "getSecret", operation: "Microsoft.KeyVault/vaults/secrets/getSecret/action"},
		{method: "GET", path: "/secrets/db-password/" + v32, provider: kv, typ: sec, name: "db-password", action: "getSecret", operation: "Microsoft.KeyVault/vaults/secrets/getSecret/action"},
		{method: "GET", path: "//secrets/mysecretname/" + v32, provider: kv, typ: sec, name: "mysecretname", action: "getSecret", operation: "Microsoft.KeyVault/vaults/secrets/getSecret/action"},
		{method: "PUT", path: "/secrets/db-password", provider: kv, typ: sec, name: "db-password", action: "setSecret", operation: "Microsoft.KeyVault/vaults/secrets/setSecret/action"},
		{method: "GET", path: "/secrets", query: q + "&maxresults=25", provider: kv, typ: sec, action: "readMetadata", operation: "Microsoft.KeyVault/vaults/secrets/readMetadata/action"},
		{method: "GET", path: "/secrets/db-password/versions", provider: kv, typ: sec, name: "db-password", action: "readMetadata", operation: "Microsoft.KeyVault/vaults/secrets/readMetadata/action"},
		{method: "PATCH", path: "/secrets/db-password/" + v32, provider: kv, typ: sec, name: "db-password", action: "update", operation: "Microsoft.KeyVault/vaults/secrets/update/action"},
		{method: "DELETE", path: "/secrets/db-password", provider: kv, typ: sec, name: "db-password", action: "delete", operation: "Microsoft.KeyVault/vaults/secrets/delete"},
		{method: "POST", path: "/secrets/db-password/backup", provider: kv, typ: sec, name: "db-password", action: "backup", operation: "Microsoft.KeyVault/vaults/secrets/backup/action"},
		{method: "POST", path: "/secrets/restore", provider: kv, typ: sec, action: "restore", operation: "Microsoft.KeyVault/vaults/secrets/restore/action"},
		{method: "GET", path: "/deletedsecrets", provider: kv, typ: sec, action: "readMetadata", operation: "Microsoft.KeyVault/vaults/secrets/readMetadata/action"},
		{method: "DELETE", path: "/deletedsecrets/db-password", provider: kv, typ: sec, name: "db-password", action: "purge", operation: "Microsoft.KeyVault/vaults/secrets/purge/action"},
		{method: "POST", path: "/deletedsecrets/db-password/recover", provider: kv, typ: sec, name: "db-password", action: "recover", operation: "Microsoft.KeyVault/vaults/secrets/recover/action"},
		{method: "GET", path: "/keys", provider: kv, typ: key, action: "read", operation: "Microsoft.KeyVault/vaults/keys/read"},
		{method: "POST", path: "/keys/signing/create", provider: kv, typ: key, name: "signing", action: "create", operation: "Microsoft.KeyVault/vaults/keys/create/action"},
		{method: "PUT", path: "/keys/imported", provider: kv, typ: key, name: "imported", action: "import", operation: "Microsoft.KeyVault/vaults/keys/import/action"},
		{method: "GET", path: "/keys/signing/" + v32, provider: kv, typ: key, name: "signing", action: "read", operation: "Microsoft.KeyVault/vaults/keys/read"},
		{method: "POST", path: "/keys/signing/" + v32 + "/sign", provider: kv, typ: key, name: "signing", action: "sign", operation: "Microsoft.KeyVault/vaults/keys/sign/action"},
		{method: "POST", path: "/keys/wrapper//wrapkey", provider: kv, typ: key, name: "wrapper", action: "wrap", operation: "Microsoft.KeyVault/vaults/keys/wrap/action"},
		{method: "POST", path: "/keys/wrapper/" + v32 + "/unwrapkey", provider: kv, typ: key, name: "wrapper", action: "unwrap", operation: "Microsoft.KeyVault/vaults/keys/unwrap/action"},
		{method: "POST", path: "/keys/enc/" + v32 + "/decrypt", provider: kv, typ: key, name: "enc", action: "decrypt", operation: "Microsoft.KeyVault/vaults/keys/decrypt/action"},
		{method: "POST", path: "/keys/signing/rotate", provider: kv, typ: key, name: "signing", action: "rotate", operation: "Microsoft.KeyVault/vaults/keys/rotate/action"},
		{method: "GET", path: "/keys/signing/rotationpolicy", provider: kv, typ: "vaults/keyrotationpolicies", name: "signing", action: "read", operation: "Microsoft.KeyVault/vaults/keyrotationpolicies/read"},
		{method: "PUT", path: "/keys/signing/rotationpolicy", provider: kv, typ: "vaults/keyrotationpolicies", name: "signing", action: "write", operation: "Microsoft.KeyVault/vaults/keyrotationpolicies/write"},
		{method: "DELETE", path: "/deletedkeys/signing", provider: kv, typ: key, name: "signing", action: "purge", operation: "Microsoft.KeyVault/vaults/keys/purge/action"},
		{method: "GET", path: "/certificates/web-tls/", provider: kv, typ: crt, name: "web-tls", action: "read", operation: "Microsoft.KeyVault/vaults/certificates/read"},
		{method: "POST", path: "/certificates/web-tls/create", provider: kv, typ: crt, name: "web-tls", action: "create", operation: "Microsoft.KeyVault/vaults/certificates/create/action"},
		{method: "POST", path: "/certificates/web-tls/import", provider: kv, typ: crt, name: "web-tls", action: "import", operation: "Microsoft.KeyVault/vaults/certificates/import/action"},
		{method: "PATCH", path: "/certificates/web-tls/policy", provider: kv, typ: crt, name: "web-tls", action: "update", operation: "Microsoft.KeyVault/vaults/certificates/update/action"},
		{method: "GET", path: "/certificates/web-tls/pending", provider: kv, typ: crt, name: "web-tls", action: "read", operation: "Microsoft.KeyVault/vaults/certificates/read"},
		{method: "POST", path: "/certificates/web-tls/pending/merge", provider: kv, typ: crt, name: "web-tls", action: "create", operation: "Microsoft.KeyVault/vaults/certificates/create/action"},
		{method: "PUT", path: "/certificates/contacts", provider: kv, typ: "vaults/certificatecontacts", action: "write", operation: "Microsoft.KeyVault/vaults/certificatecontacts/write"},
		{method: "PUT", path: "/certificates/issuers/digicert", provider: kv, typ: "vaults/certificatecas", name: "digicert", action: "write", operation: "Microsoft.KeyVault/vaults/certificatecas/write"},
		{method: "GET", path: "/certificates/issuers", provider: kv, typ: "vaults/certificatecas", action: "read", operation: "Microsoft.KeyVault/vaults/certificatecas/read"},
		{method: "POST", path: "/deletedcertificates/web-tls/recover", provider: kv, typ: crt, name: "web-tls", action: "recover", operation: "Microsoft.KeyVault/vaults/certificates/recover/action"},
	}
	for _, c := range cases {
		c.host = "myvault.vault.azure.net"
		if c.query == "" {
			c.query = q
		}
		c.version, c.data, c.account = ver, true, "myvault"
		t.Run(c.method+" "+c.path, func(t *testing.T) { c.check(t) })
	}
}

func TestParseBlob(t *testing.T) {
	const (
		st    = "Microsoft.Storage"
		svc   = "storageAccounts/blobServices"
		ctr   = svc + "/containers"
		blobs = ctr + "/blobs"
		pre   = "Microsoft.Storage/storageAccounts/blobServices/"
	)
	cases := []parseCase{
		{method: "GET", path: "/", query: "comp=list&maxresults=100", provider: st, typ: ctr, action: "read", operation: pre + "containers/read", container: "-"},
		{method: "GET", path: "/", query: "restype=service&comp=properties", provider: st, typ: svc, name: "default", action: "read", operation: pre + "read"},
		{method: "PUT", path: "/", query: "restype=service&comp=properties", provider: st, typ: svc, name: "default", action: "write", operation: pre + "write"},
		{method: "GET", path: "/", query: "restype=service&comp=stats", provider: st, typ: svc, name: "default", action: "read", operation: pre + "read"},
		{method: "POST", path: "/", query: "restype=service&comp=userdelegationkey", provider: st, typ: svc, name: "default", action: "generateUserDelegationKey", operation: pre + "generateUserDelegationKey/action"},
		{method: "HEAD", path: "/", query: "restype=account&comp=properties", provider: st, typ: svc, name: "default", action: "getInfo", operation: pre + "getInfo/action"},
		{method: "GET", path: "/", query: "comp=blobs&where=%22env%22%3D%27prod%27", provider: st, typ: blobs, action: "filter", operation: pre + "containers/blobs/filter/action", data: true},
		{method: "PUT", path: "/logs", query: "restype=container", provider: st, typ: ctr, name: "logs", action: "write", operation: pre + "containers/write", container: "logs"},
		{method: "GET", path: "/logs", query: "restype=container", provider: st, typ: ctr, name: "logs", action: "read", operation: pre + "containers/read", container: "logs"},
		{method: "DELETE", path: "/logs", query: "restype=container", provider: st, typ: ctr, name: "logs", action: "delete", operation: pre + "containers/delete", container: "logs"},
		{method: "PUT", path: "/logs", query: "restype=container&comp=metadata", provider: st, typ: ctr, name: "logs", action: "write", operation: pre + "containers/write"},
		{method: "GET", path: "/logs", query: "restype=container&comp=acl", provider: st, typ: ctr, name: "logs", action: "getAcl", operation: pre + "containers/getAcl/action"},
		{method: "PUT", path: "/logs", query: "restype=container&comp=acl", provider: st, typ: ctr, name: "logs", action: "setAcl", operation: pre + "containers/setAcl/action"},
		{method: "PUT", path: "/logs", query: "comp=lease&restype=container", provider: st, typ: ctr, name: "logs", action: "write", operation: pre + "containers/write"},
		{method: "GET", path: "/logs", query: "restype=container&comp=list&prefix=2025%2F&delimiter=%2F", provider: st, typ: blobs, action: "read", operation: pre + "containers/blobs/read", data: true, container: "logs"},
		{method: "GET", path: "/logs", query: "restype=container&comp=blobs&where=x", provider: st, typ: blobs, action: "filter", operation: pre + "containers/blobs/filter/action", data: true},
		{method: "GET", path: "/logs/2025/01/app.log", provider: st, typ: blobs, name: "2025/01/app.log", action: "read", operation: pre + "containers/blobs/read", data: true, container: "logs"},
		{method: "HEAD", path: "/logs/app.log", provider: st, typ: blobs, name: "app.log", action: "read", operation: pre + "containers/blobs/read", data: true},
		{method: "GET", path: "/logs/dir%2Fa%20b.txt", provider: st, typ: blobs, name: "dir/a b.txt", action: "read", operation: pre + "containers/blobs/read", data: true},
		{method: "GET", path: "/logs/50%25.txt", provider: st, typ: blobs, name: "50%.txt", action: "read", operation: pre + "containers/blobs/read", data: true},
		{method: "PUT", path: "/logs/app.log", provider: st, typ: blobs, name: "app.log", action: "write", operation: pre + "containers/blobs/write", data: true},
		{method: "PUT", path: "/logs/big.bin", query: "comp=block&blockid=AAAA", provider: st, typ: blobs, name: "big.bin", action: "write", operation: pre + "containers/blobs/write", data: true},
		{method: "PUT", path: "/logs/big.bin", query: "comp=blocklist", provider: st, typ: blobs, name: "big.bin", action: "write", operation: pre + "containers/blobs/write", data: true},
		{method: "GET", path: "/logs/big.bin", query: "comp=blocklist&blocklisttype=all", provider: st, typ: blobs, name: "big.bin", action: "read", operation: pre + "containers/blobs/read", data: true},
		{method: "PUT", path: "/logs/app.log", query: "comp=metadata", provider: st, typ: blobs, name: "app.log", action: "write", operation: pre + "containers/blobs/write", data: true},
		{method: "PUT", path: "/logs/app.log", query: "comp=tier", provider: st, typ: blobs, name: "app.log", action: "write", operation: pre + "containers/blobs/write", data: true},
		{method: "GET", path: "/logs/app.log", query: "comp=tags", provider: st, typ: blobs + "/tags", name: "app.log", action: "read", operation: pre + "containers/blobs/tags/read", data: true},
		{method: "PUT", path: "/logs/app.log", query: "comp=tags", provider: st, typ: blobs + "/tags", name: "app.log", action: "write", operation: pre + "containers/blobs/tags/write", data: true},
		{method: "DELETE", path: "/logs/app.log", provider: st, typ: blobs, name: "app.log", action: "delete", operation: pre + "containers/blobs/delete", data: true},
		{method: "DELETE", path: "/logs/app.log", query: "versionid=2025-01-01T00%3A00%3A00.0000000Z", provider: st, typ: blobs, name: "app.log", action: "deleteBlobVersion", operation: pre + "containers/blobs/deleteBlobVersion/action", data: true},
		{method: "DELETE", path: "/logs/app.log", query: "snapshot=2025-01-01T00%3A00%3A00.0000000Z&deletetype=permanent", provider: st, typ: blobs, name: "app.log", action: "permanentDelete", operation: pre + "containers/blobs/permanentDelete/action", data: true},
		{method: "PUT", path: "/logs/app.log", query: "comp=immutabilityPolicies", provider: st, typ: blobs + "/immutableStorage", name: "app.log", action: "runAsSuperUser", operation: pre + "containers/blobs/immutableStorage/runAsSuperUser/action", data: true},
		{method: "PUT", path: "/logs/app.log", query: "comp=legalhold", provider: st, typ: ctr, name: "logs", action: "write", operation: pre + "containers/write"},
		{method: "PUT", path: "/logs/app.log", query: "comp=undelete", provider: st, typ: ctr, name: "logs", action: "write", operation: pre + "containers/write"},
		{method: "POST", path: "/logs/data.csv", query: "comp=query", provider: st, typ: blobs, name: "data.csv", action: "read", operation: pre + "containers/blobs/read", data: true},
		{method: "GET", path: "/robots.txt", provider: st, typ: blobs, name: "robots.txt", action: "read", operation: pre + "containers/blobs/read", data: true, container: "$root"},
		{method: "GET", path: "/$web/index.html", provider: st, typ: blobs, name: "index.html", action: "read", operation: pre + "containers/blobs/read", data: true, container: "$web"},
	}
	for _, c := range cases {
		c.host = "acct1.blob.core.windows.net"
		c.account = "acct1"
		t.Run(c.method+" "+c.path+"?"+c.query, func(t *testing.T) { c.check(t) })
	}
}
