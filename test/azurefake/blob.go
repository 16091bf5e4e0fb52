// SPDX-License-Identifier: Apache-2.0

// Blob Storage data plane ({account}.blob.core.windows.net): seeded,
// read-only block blobs, the accounts served, and the routing of a
// request to Get Blob or Get Blob Properties (blob_get.go).

package azurefake

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// BlobSuffix is the host suffix of Blob Storage accounts.
const BlobSuffix = ".blob.core.windows.net"

// Blob seeds a read-only block blob. Its content is not stored: it is
// generated, deterministically, while it is sent (see [Blob.NewReader]),
// so Size may exceed memory.
type Blob struct {
	// Account is the storage account, served as ACCOUNT.blob.core.windows.net:
	// 3 to 24 lower-case letters and digits.
	Account string
	// Container: 3 to 63 lower-case letters, digits and single dashes.
	Container string
	// Name of the blob; may hold '/'.
	Name string
	// Size in bytes.
	Size int64
	// ContentType defaults to application/octet-stream.
	ContentType string
}

// ETag is the blob's entity tag, quoted, in Blob Storage's form.
func (b Blob) ETag() string {
	k := b.contentKey()
	return fmt.Sprintf(`"0x8D%s"`, strings.ToUpper(hex.EncodeToString(k[:7])[:13]))
}

// checkBlobs validates and normalises seeded blobs.
func checkBlobs(blobs []Blob) ([]Blob, error) {
	out := make([]Blob, len(blobs))
	seen := map[string]bool{}
	for i, b := range blobs {
		if !validAccountName(b.Account) {
			return nil, fmt.Errorf("blob %q: account %q: want 3 to 24 lower-case letters and digits", b.Name, b.Account)
		}
		if !validContainerName(b.Container) {
			return nil, fmt.Errorf("blob %q: container %q: want 3 to 63 lower-case letters, digits and single dashes", b.Name, b.Container)
		}
		if b.Name == "" || len(b.Name) > 1024 || b.Size < 0 {
			return nil, fmt.Errorf("blob %q: a name of 1 to 1024 characters and a size of at least 0 are required", b.Name)
		}
		if b.ContentType == "" {
			b.ContentType = "application/octet-stream"
		}
		id := b.Account + "/" + b.Container + "/" + b.Name
		if seen[id] {
			return nil, fmt.Errorf("duplicate blob %s", id)
		}
		seen[id] = true
		out[i] = b
	}
	return out, nil
}

func validContainerName(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// blobAccounts are the accounts with a Blob endpoint: those of seeded
// storage accounts and of seeded blobs, lower case.
func (s *Server) blobAccounts() []string {
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if a = strings.ToLower(a); !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, a := range s.opts.StorageAccounts {
		add(a.Name)
	}
	for _, b := range s.opts.Blobs {
		add(b.Account)
	}
	return out
}

// hasBlobAccount reports whether account has a Blob endpoint.
func (s *Server) hasBlobAccount(account string) bool {
	for _, a := range s.blobAccounts() {
		if a == account {
			return true
		}
	}
	return false
}

// serveBlob answers ACCOUNT.blob.core.windows.net: token, x-ms-version,
// then Get Blob or Get Blob Properties.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, rec *Request, account string) {
	if !s.blobAuth(w, r, rec, account) {
		return
	}
	version := r.Header.Get("x-ms-version")
	switch {
	case version == "":
		blobError(w, r, http.StatusBadRequest, "MissingRequiredHeader",
			"An HTTP header that's mandatory for this request is not specified.", "<HeaderName>x-ms-version</HeaderName>")
		return
	case version < "2017-11-09": // dates compare as strings
		// Stand-in code: Storage refuses OAuth before 2017-11-09.
		blobError(w, r, http.StatusBadRequest, "InvalidHeaderValue",
			"The value for one of the HTTP headers is not in the correct format.", "<HeaderName>x-ms-version</HeaderName><HeaderValue>"+version+"</HeaderValue>")
		return
	}
	w.Header().Set("x-ms-version", version)
	container, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	if q.Has("comp") || q.Has("restype") || q.Has("snapshot") || q.Has("versionid") {
		// Stand-in: only plain blob reads are served.
		blobError(w, r, http.StatusBadRequest, "UnsupportedQueryParameter",
			"One of the query parameters specified in the request URI is not supported.", "")
		return
	}
	if name == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		// Stand-in: the blobs are read-only and nothing else is served.
		blobError(w, r, http.StatusMethodNotAllowed, "UnsupportedHttpVerb",
			"The resource doesn't support specified Http Verb.", "")
		return
	}
	b, found, containerFound := s.findBlob(account, container, name)
	switch {
	case !containerFound:
		blobError(w, r, http.StatusNotFound, "ContainerNotFound", "The specified container does not exist.", "")
		return
	case !found:
		blobError(w, r, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.", "")
		return
	}
	s.getBlob(w, r, b)
}

// findBlob looks a blob up by account (lower case), container and name.
func (s *Server) findBlob(account, container, name string) (b Blob, found, containerFound bool) {
	for _, b := range s.opts.Blobs {
		if b.Account != account || b.Container != container {
			continue
		}
		containerFound = true
		if b.Name == name {
			return b, true, true
		}
	}
	return Blob{}, false, containerFound
}
