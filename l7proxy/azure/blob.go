// SPDX-License-Identifier: Apache-2.0

// Blob data plane ({account}.blob.core.windows.net): the service,
// containers and blobs, named with the DataActions and Actions that
// "Authorize with Microsoft Entra ID" (Permissions for Blob service
// operations) lists per REST operation.

package azure

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

const (
	nsStorage = "Microsoft.Storage"

	tBlobService = "storageAccounts/blobServices"
	tContainers  = tBlobService + "/containers"
	tBlobs       = tContainers + "/blobs"
	tTags        = tBlobs + "/tags"
	tImmutable   = tBlobs + "/immutableStorage"

	opBlobService = nsStorage + "/" + tBlobService + "/"
	opContainers  = nsStorage + "/" + tContainers + "/"
	opBlobs       = nsStorage + "/" + tBlobs + "/"

	// maxBlobName is Azure's limit, in characters.
	maxBlobName = 1024
	// maxBlobSegments is Azure's limit on the '/'-separated parts of a
	// blob name.
	maxBlobSegments = 254
)

// parseBlob names a Blob request. The path is /{container}/{blob}; a
// blob name may hold '/' (encoded or not) and is decoded once. A single
// segment without restype=container or restype=account is a blob in the
// $root container, as Azure reads it.
func parseBlob(op *Operation, method, raw string, escaped bool, q *query) *failure {
	rest := raw[1:]
	rawContainer, rawBlob, _ := strings.Cut(rest, "/")
	isAccountType := fold(q.restype, "account")
	switch {
	case q.restype != "" && !fold(q.restype, "container") && !isAccountType && !fold(q.restype, "service"):
		return unknown("unknown restype")
	case isAccountType:
		// Get Account Information works at every level.
		if method != http.MethodGet && method != http.MethodHead || !fold(q.comp, "properties") {
			return unknown("not a Blob account operation")
		}
		if rawContainer != "" {
			container, f := blobContainer(rawContainer, escaped)
			if f != nil {
				return f
			}
			op.Container = container
		}
		setData(op, nsStorage, tBlobService, opBlobService+"getInfo/action", "default")
		op.DataAction = false
		return nil
	case rawContainer == "":
		return blobService(op, method, q)
	case rawBlob == "" && fold(q.restype, "container"):
		container, f := blobContainer(rawContainer, escaped)
		if f != nil {
			return f
		}
		op.Container = container
		return blobContainerOp(op, method, q)
	case q.restype != "":
		return unknown("restype on a blob")
	case rawBlob == "" && strings.HasSuffix(rest, "/"):
		return invalid("empty blob name")
	case rawBlob == "":
		rawBlob, rawContainer = rawContainer, "$root"
	}
	container, f := blobContainer(rawContainer, escaped)
	if f != nil {
		return f
	}
	name, f := blobName(rawBlob)
	if f != nil {
		return f
	}
	op.Container = container
	return blobOp(op, method, q, container, name)
}

// blobContainer decodes and checks a container name: 3 to 63 lower-case
// letters, digits and single dashes, or $root, $web, $logs.
func blobContainer(raw string, escaped bool) (string, *failure) {
	name := raw
	if escaped && strings.IndexByte(raw, '%') >= 0 {
		var f *failure
		if name, f = decodeStrict(raw, true); f != nil {
			return "", f
		}
	}
	switch name {
	case "$root", "$web", "$logs":
		return name, nil
	}
	if len(name) < 3 || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' || strings.Contains(name, "--") {
		return "", invalid("malformed container name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || isDigit(c) || c == '-') {
			return "", invalid("malformed container name")
		}
	}
	return name, nil
}

// blobName decodes a blob name once ('%2F' is a '/' of the name) and
// refuses what servers could read differently: a control character, a
// backslash, a dot or empty part, a trailing '/', or a name that is not
// UTF-8 or longer than Azure allows.
func blobName(raw string) (string, *failure) {
	name := raw
	if strings.IndexByte(raw, '%') >= 0 {
		var b strings.Builder
		b.Grow(len(raw))
		for i := 0; i < len(raw); i++ {
			c := raw[i]
			if c != '%' {
				b.WriteByte(c)
				continue
			}
			if i+2 >= len(raw) {
				return "", invalid("truncated percent-encoding")
			}
			hi, lo := unhex(raw[i+1]), unhex(raw[i+2])
			if hi < 0 || lo < 0 {
				return "", invalid("bad percent-encoding")
			}
			b.WriteByte(byte(hi<<4 | lo))
			i += 2
		}
		name = b.String()
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxBlobName {
		return "", invalid("blob name not UTF-8 or too long")
	}
	parts := 0
	for part := range strings.SplitSeq(name, "/") {
		parts++
		if part == "" || part == "." || part == ".." || parts > maxBlobSegments {
			return "", invalid("empty, dot or too many parts in blob name")
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", invalid("control character or backslash in blob name")
		}
	}
	return name, nil
}

// blobService: requests to the account's Blob service (path /).
func blobService(op *Operation, method string, q *query) *failure {
	service := fold(q.restype, "service")
	read := method == http.MethodGet || method == http.MethodHead
	switch {
	case !service && fold(q.comp, "list") && read:
		setData(op, nsStorage, tContainers, opContainers+"read", "")
	case !service && fold(q.comp, "blobs") && method == http.MethodGet:
		setData(op, nsStorage, tBlobs, opBlobs+"filter/action", "")
		return nil
	case service && fold(q.comp, "properties") && read:
		setData(op, nsStorage, tBlobService, opBlobService+"read", "default")
	case service && fold(q.comp, "stats") && read:
		setData(op, nsStorage, tBlobService, opBlobService+"read", "default")
	case service && fold(q.comp, "properties") && method == http.MethodPut:
		setData(op, nsStorage, tBlobService, opBlobService+"write", "default")
	case service && fold(q.comp, "userdelegationkey") && method == http.MethodPost:
		setData(op, nsStorage, tBlobService, opBlobService+"generateUserDelegationKey/action", "default")
	case fold(q.comp, "batch"):
		return unknown("blob batch: sub-requests are not inspected")
	default:
		return unknown("not a Blob service operation")
	}
	// The service's own properties and keys are Actions, not DataActions.
	op.DataAction = false
	return nil
}

// blobContainerOp: /{container}?restype=container[&comp=...].
func blobContainerOp(op *Operation, method string, q *query) *failure {
	read := method == http.MethodGet || method == http.MethodHead
	c := op.Container
	comp := q.comp
	switch {
	case comp == "" && read, fold(comp, "metadata") && read:
		setData(op, nsStorage, tContainers, opContainers+"read", c)
	case comp == "" && method == http.MethodPut,
		fold(comp, "metadata") && method == http.MethodPut,
		fold(comp, "lease") && method == http.MethodPut,
		fold(comp, "undelete") && method == http.MethodPut:
		setData(op, nsStorage, tContainers, opContainers+"write", c)
	case comp == "" && method == http.MethodDelete:
		setData(op, nsStorage, tContainers, opContainers+"delete", c)
	case fold(comp, "acl") && read:
		setData(op, nsStorage, tContainers, opContainers+"getAcl/action", c)
	case fold(comp, "acl") && method == http.MethodPut:
		setData(op, nsStorage, tContainers, opContainers+"setAcl/action", c)
	case fold(comp, "list") && method == http.MethodGet:
		setData(op, nsStorage, tBlobs, opBlobs+"read", "")
		return nil
	case fold(comp, "blobs") && method == http.MethodGet:
		setData(op, nsStorage, tBlobs, opBlobs+"filter/action", "")
		return nil
	case fold(comp, "batch"):
		return unknown("blob batch: sub-requests are not inspected")
	default:
		return unknown("not a Blob container operation")
	}
	// Container operations are Actions, not DataActions.
	op.DataAction = false
	return nil
}

// blobWrites are the comp values of PUT requests that write a blob
// (blobs/write).
var blobWrites = [...]string{"", "metadata", "properties", "lease", "snapshot", "block", "blocklist",
	"page", "appendblock", "copy", "tier", "expiry", "incrementalcopy"}

// blobReads are the comp values of GET and HEAD requests that read a blob
// (blobs/read).
var blobReads = [...]string{"", "metadata", "properties", "blocklist", "pagelist"}

// blobOp: /{container}/{blob}[?comp=...].
func blobOp(op *Operation, method string, q *query, container, name string) *failure {
	comp := q.comp
	switch method {
	case http.MethodGet, http.MethodHead:
		if fold(comp, "tags") {
			setData(op, nsStorage, tTags, opBlobs+"tags/read", name)
			return nil
		}
		if oneOf(comp, blobReads[:]) {
			setData(op, nsStorage, tBlobs, opBlobs+"read", name)
			return nil
		}
	case http.MethodPut:
		switch {
		case fold(comp, "tags"):
			setData(op, nsStorage, tTags, opBlobs+"tags/write", name)
			return nil
		case fold(comp, "immutabilityPolicies"):
			setData(op, nsStorage, tImmutable, opBlobs+"immutableStorage/runAsSuperUser/action", name)
			return nil
		case fold(comp, "legalhold"), fold(comp, "undelete"):
			// Documented as containers/write.
			setData(op, nsStorage, tContainers, opContainers+"write", container)
			op.DataAction = false
			return nil
		case oneOf(comp, blobWrites[:]):
			setData(op, nsStorage, tBlobs, opBlobs+"write", name)
			return nil
		}
	case http.MethodDelete:
		switch {
		case fold(comp, "immutabilityPolicies"):
			setData(op, nsStorage, tImmutable, opBlobs+"immutableStorage/runAsSuperUser/action", name)
			return nil
		case comp != "":
		case fold(q.deleteType, "permanent"):
			setData(op, nsStorage, tBlobs, opBlobs+"permanentDelete/action", name)
			return nil
		case q.versionID != "":
			setData(op, nsStorage, tBlobs, opBlobs+"deleteBlobVersion/action", name)
			return nil
		default:
			setData(op, nsStorage, tBlobs, opBlobs+"delete", name)
			return nil
		}
	case http.MethodPost:
		if fold(comp, "query") {
			setData(op, nsStorage, tBlobs, opBlobs+"read", name)
			return nil
		}
	}
	return unknown("not a Blob operation")
}

// oneOf reports whether s equals one of list, ignoring case.
func oneOf(s string, list []string) bool {
	for _, l := range list {
		if fold(s, l) {
			return true
		}
	}
	return false
}
