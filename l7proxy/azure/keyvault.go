// SPDX-License-Identifier: Apache-2.0

// Key Vault data plane ({vault}.vault.azure.net): secrets, keys,
// certificates and their deleted forms, named with the DataActions of
// Azure RBAC ("Azure permissions for Security", Microsoft.KeyVault).

package azure

import "net/http"

const (
	nsKeyVault = "Microsoft.KeyVault"

	kvSecrets   = "vaults/secrets"
	kvKeys      = "vaults/keys"
	kvRotation  = "vaults/keyrotationpolicies"
	kvCerts     = "vaults/certificates"
	kvCAs       = "vaults/certificatecas"
	kvContacts  = "vaults/certificatecontacts"
	kvOpPrefix  = nsKeyVault + "/"
	kvSecretsOp = kvOpPrefix + kvSecrets + "/"
	kvKeysOp    = kvOpPrefix + kvKeys + "/"
	kvCertsOp   = kvOpPrefix + kvCerts + "/"
)

// kvName: an object name, 1 to 127 letters, digits and dashes.
func kvName(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// kvVersion: an object version, 1 to 64 letters and digits (32 hex
// digits in practice).
func kvVersion(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

// parseKeyVault names a Key Vault data-plane request. Leading empty
// segments are skipped (Azure's own examples send //secrets/...) and a
// trailing '/' ignored (azsecrets sends /secrets/{name}/ for the latest
// version). The only other empty segment allowed is a key version before
// a key operation (/keys/{name}//encrypt: the latest version).
func parseKeyVault(op *Operation, method, raw string, escaped bool) *failure {
	path, f := decodeStrict(raw, escaped)
	if f != nil {
		return f
	}
	var s segments
	if f := split(path, &s); f != nil {
		return f
	}
	segs := s.list()
	for len(segs) > 0 && segs[0] == "" {
		segs = segs[1:]
	}
	if len(segs) == 0 {
		return unknown("empty Key Vault path")
	}
	rest := segs[1:]
	for i, seg := range rest {
		if seg == "" && !(i == 1 && len(rest) == 3 && fold(segs[0], "keys")) {
			return invalid("empty path segment")
		}
	}
	var f2 *failure
	switch c := segs[0]; {
	case fold(c, "secrets"):
		f2 = kvSecret(op, method, rest)
	case fold(c, "deletedsecrets"):
		f2 = kvDeleted(op, method, rest, kvSecrets, kvSecretsOp+"readMetadata/action", kvSecretsOp)
	case fold(c, "keys"):
		f2 = kvKey(op, method, rest)
	case fold(c, "deletedkeys"):
		f2 = kvDeleted(op, method, rest, kvKeys, kvKeysOp+"read", kvKeysOp)
	case fold(c, "certificates"):
		f2 = kvCertificate(op, method, rest)
	case fold(c, "deletedcertificates"):
		f2 = kvDeleted(op, method, rest, kvCerts, kvCertsOp+"read", kvCertsOp)
	default:
		f2 = unknown("not a Key Vault path this package knows")
	}
	return f2
}

// kvSecret: /secrets[/{name}[/{version}|/versions|/backup]], /secrets/restore.
func kvSecret(op *Operation, method string, rest []string) *failure {
	switch len(rest) {
	case 0:
		if method == http.MethodGet {
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"readMetadata/action", "")
			return nil
		}
	case 1:
		if method == http.MethodPost && fold(rest[0], "restore") {
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"restore/action", "")
			return nil
		}
		if !kvName(rest[0]) {
			return invalid("malformed secret name")
		}
		switch method {
		case http.MethodGet:
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"getSecret/action", rest[0])
			return nil
		case http.MethodPut:
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"setSecret/action", rest[0])
			return nil
		case http.MethodDelete:
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"delete", rest[0])
			return nil
		case http.MethodPatch:
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"update/action", rest[0])
			return nil
		}
	case 2:
		name, sub := rest[0], rest[1]
		if !kvName(name) {
			return invalid("malformed secret name")
		}
		switch {
		case method == http.MethodGet && fold(sub, "versions"):
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"readMetadata/action", name)
			return nil
		case method == http.MethodPost && fold(sub, "backup"):
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"backup/action", name)
			return nil
		case !kvVersion(sub):
			return invalid("malformed secret version")
		case method == http.MethodGet:
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"getSecret/action", name)
			return nil
		case method == http.MethodPatch:
			setData(op, nsKeyVault, kvSecrets, kvSecretsOp+"update/action", name)
			return nil
		}
	}
	return unknown("not a Key Vault secrets operation")
}

// kvDeleted: /deleted{secrets,keys,certificates}[/{name}[/recover]]:
// list and get need list (the read DataAction), DELETE purges, POST
// .../recover recovers.
func kvDeleted(op *Operation, method string, rest []string, typ, readOp, prefix string) *failure {
	switch {
	case len(rest) == 0 && method == http.MethodGet:
		setData(op, nsKeyVault, typ, readOp, "")
		return nil
	case len(rest) == 0:
	case !kvName(rest[0]):
		return invalid("malformed object name")
	case len(rest) == 1 && method == http.MethodGet:
		setData(op, nsKeyVault, typ, readOp, rest[0])
		return nil
	case len(rest) == 1 && method == http.MethodDelete:
		setData(op, nsKeyVault, typ, prefix+"purge/action", rest[0])
		return nil
	case len(rest) == 2 && method == http.MethodPost && fold(rest[1], "recover"):
		setData(op, nsKeyVault, typ, prefix+"recover/action", rest[0])
		return nil
	}
	return unknown("not a Key Vault deleted-object operation")
}

// keyOps maps the POST operations on a key version to their DataAction.
var keyOps = [...]struct{ path, op string }{
	{"encrypt", kvKeysOp + "encrypt/action"},
	{"decrypt", kvKeysOp + "decrypt/action"},
	{"sign", kvKeysOp + "sign/action"},
	{"verify", kvKeysOp + "verify/action"},
	{"wrapkey", kvKeysOp + "wrap/action"},
	{"unwrapkey", kvKeysOp + "unwrap/action"},
	{"release", kvKeysOp + "release/action"},
}

// kvKey: /keys[/{name}[/...]], /keys/restore.
func kvKey(op *Operation, method string, rest []string) *failure {
	if len(rest) == 0 {
		if method == http.MethodGet {
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"read", "")
			return nil
		}
		return unknown("not a Key Vault keys operation")
	}
	if len(rest) == 1 && method == http.MethodPost && fold(rest[0], "restore") {
		setData(op, nsKeyVault, kvKeys, kvKeysOp+"restore/action", "")
		return nil
	}
	name := rest[0]
	if !kvName(name) {
		return invalid("malformed key name")
	}
	switch len(rest) {
	case 1:
		switch method {
		case http.MethodGet:
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"read", name)
			return nil
		case http.MethodPut:
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"import/action", name)
			return nil
		case http.MethodDelete:
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"delete", name)
			return nil
		case http.MethodPatch:
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"update/action", name)
			return nil
		}
	case 2:
		sub := rest[1]
		switch {
		case method == http.MethodGet && fold(sub, "versions"):
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"read", name)
			return nil
		case method == http.MethodPost && fold(sub, "create"):
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"create/action", name)
			return nil
		case method == http.MethodPost && fold(sub, "backup"):
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"backup/action", name)
			return nil
		case method == http.MethodPost && fold(sub, "rotate"):
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"rotate/action", name)
			return nil
		case method == http.MethodPost && fold(sub, "release"):
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"release/action", name)
			return nil
		case method == http.MethodGet && fold(sub, "rotationpolicy"):
			setData(op, nsKeyVault, kvRotation, kvOpPrefix+kvRotation+"/read", name)
			return nil
		case method == http.MethodPut && fold(sub, "rotationpolicy"):
			setData(op, nsKeyVault, kvRotation, kvOpPrefix+kvRotation+"/write", name)
			return nil
		case !kvVersion(sub):
			return invalid("malformed key version")
		case method == http.MethodGet:
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"read", name)
			return nil
		case method == http.MethodPatch:
			setData(op, nsKeyVault, kvKeys, kvKeysOp+"update/action", name)
			return nil
		}
	case 3:
		if rest[1] != "" && !kvVersion(rest[1]) {
			return invalid("malformed key version")
		}
		if method != http.MethodPost {
			break
		}
		for _, k := range keyOps {
			if fold(rest[2], k.path) {
				setData(op, nsKeyVault, kvKeys, k.op, name)
				return nil
			}
		}
	}
	return unknown("not a Key Vault keys operation")
}
