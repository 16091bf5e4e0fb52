// SPDX-License-Identifier: Apache-2.0

// The few query parameters that change which operation a request is:
// api-version, and Blob's restype, comp, versionid and deletetype.

package azure

import (
	"net/url"
	"strings"
)

// query holds the parameters Parse reads. Names match case-insensitively;
// a parameter given twice (in any case or encoding) is refused, so that
// Interlock and Azure cannot read different values.
type query struct {
	apiVersion string
	restype    string
	comp       string
	versionID  string
	deleteType string
}

// queryKeys are the names parseQuery looks for, lower-case.
var queryKeys = [...]string{"api-version", "restype", "comp", "versionid", "deletetype"}

// field returns the field of q for queryKeys[i].
func (q *query) field(i int) *string {
	switch i {
	case 0:
		return &q.apiVersion
	case 1:
		return &q.restype
	case 2:
		return &q.comp
	case 3:
		return &q.versionID
	}
	return &q.deleteType
}

// parseQuery reads a raw query string. Values are decoded only when they
// hold '%' or '+'.
func parseQuery(raw string, q *query) *failure {
	if len(raw) > MaxQueryLength {
		return invalid("query too long")
	}
	var seen [len(queryKeys)]bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(key, "%+") {
			k, err := url.QueryUnescape(key)
			if err != nil {
				return invalid("bad percent-encoding in query")
			}
			key = k
		}
		for i, want := range queryKeys {
			if !fold(key, want) {
				continue
			}
			if seen[i] {
				return invalid("repeated query parameter " + want)
			}
			seen[i] = true
			if strings.ContainsAny(value, "%+") {
				v, err := url.QueryUnescape(value)
				if err != nil {
					return invalid("bad percent-encoding in query")
				}
				value = v
			}
			*q.field(i) = value
			break
		}
	}
	if !validAPIVersion(q.apiVersion) {
		return invalid("malformed api-version")
	}
	return nil
}

// validAPIVersion accepts "" and versions such as 2025-04-01,
// 2024-01-01-preview and 7.4 (Key Vault's old form).
func validAPIVersion(v string) bool {
	if len(v) > 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
