// SPDX-License-Identifier: Apache-2.0

// Key Vault certificates: the certificates, their policies and pending
// operations, issuers (certificatecas) and contacts.

package azure

import "net/http"

// kvCertificate: /certificates[/...]. Contacts (get, set, delete) are
// all certificatecontacts/write, the one DataAction RBAC has for them
// (the access-policy model's managecontacts). A pending operation is
// read with certificates/read; cancelling (PATCH) or deleting it is
// certificates/update/action, and merging certificates/create/action, as
// the REST reference requires the update and create permissions.
func kvCertificate(op *Operation, method string, rest []string) *failure {
	if len(rest) == 0 {
		if method == http.MethodGet {
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"read", "")
			return nil
		}
		return unknown("not a Key Vault certificates operation")
	}
	first := rest[0]
	switch {
	case fold(first, "contacts"):
		if len(rest) == 1 && (method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete) {
			setData(op, nsKeyVault, kvContacts, kvOpPrefix+kvContacts+"/write", "")
			return nil
		}
		return unknown("not a Key Vault certificate contacts operation")
	case fold(first, "issuers"):
		return kvIssuer(op, method, rest[1:])
	case len(rest) == 1 && method == http.MethodPost && fold(first, "restore"):
		setData(op, nsKeyVault, kvCerts, kvCertsOp+"restore/action", "")
		return nil
	}
	if !kvName(first) {
		return invalid("malformed certificate name")
	}
	name := first
	switch len(rest) {
	case 1:
		switch method {
		case http.MethodGet:
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"read", name)
			return nil
		case http.MethodDelete:
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"delete", name)
			return nil
		case http.MethodPatch:
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"update/action", name)
			return nil
		}
	case 2:
		sub := rest[1]
		switch {
		case method == http.MethodPost && fold(sub, "create"):
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"create/action", name)
			return nil
		case method == http.MethodPost && fold(sub, "import"):
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"import/action", name)
			return nil
		case method == http.MethodPost && fold(sub, "backup"):
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"backup/action", name)
			return nil
		case method == http.MethodGet && (fold(sub, "versions") || fold(sub, "policy") || fold(sub, "pending")):
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"read", name)
			return nil
		case method == http.MethodPatch && fold(sub, "policy"),
			(method == http.MethodPatch || method == http.MethodDelete) && fold(sub, "pending"):
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"update/action", name)
			return nil
		case fold(sub, "versions") || fold(sub, "policy") || fold(sub, "pending"):
		case !kvVersion(sub):
			return invalid("malformed certificate version")
		case method == http.MethodGet:
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"read", name)
			return nil
		case method == http.MethodPatch:
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"update/action", name)
			return nil
		}
	case 3:
		if method == http.MethodPost && fold(rest[1], "pending") && fold(rest[2], "merge") {
			setData(op, nsKeyVault, kvCerts, kvCertsOp+"create/action", name)
			return nil
		}
	}
	return unknown("not a Key Vault certificates operation")
}

// kvIssuer: /certificates/issuers[/{name}] → certificatecas.
func kvIssuer(op *Operation, method string, rest []string) *failure {
	const prefix = kvOpPrefix + kvCAs + "/"
	switch len(rest) {
	case 0:
		if method == http.MethodGet {
			setData(op, nsKeyVault, kvCAs, prefix+"read", "")
			return nil
		}
	case 1:
		if !kvName(rest[0]) {
			return invalid("malformed issuer name")
		}
		switch method {
		case http.MethodGet:
			setData(op, nsKeyVault, kvCAs, prefix+"read", rest[0])
			return nil
		case http.MethodPut, http.MethodPatch:
			setData(op, nsKeyVault, kvCAs, prefix+"write", rest[0])
			return nil
		case http.MethodDelete:
			setData(op, nsKeyVault, kvCAs, prefix+"delete", rest[0])
			return nil
		}
	}
	return unknown("not a Key Vault certificate issuers operation")
}
