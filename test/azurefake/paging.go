// SPDX-License-Identifier: Apache-2.0

// Paging of lists: pages of Options.PageSize items and the nextLink that
// carries the offset of the next page in $skiptoken.

package azurefake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
)

// skipToken is the opaque content of $skiptoken.
type skipToken struct {
	Offset int `json:"nextMarker"`
}

// page returns the items of the page that r asks for and, when more
// follow, the nextLink for the next page: base (scheme and host) plus r's
// path and query with $skiptoken replaced. size is the page size.
func page[T any](r *http.Request, items []T, size int, base string) ([]T, string) {
	off := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		var st skipToken
		if b, err := base64.RawURLEncoding.DecodeString(tok); err == nil && json.Unmarshal(b, &st) == nil && st.Offset > 0 {
			off = st.Offset
		}
	}
	off = min(off, len(items))
	end := min(off+size, len(items))
	if end == len(items) {
		return items[off:end], ""
	}
	b, _ := json.Marshal(skipToken{Offset: end})
	q := r.URL.Query()
	q.Del("$skiptoken")
	// The other parameters first, then %24skiptoken, as ARM writes it.
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += "%24skiptoken=" + base64.RawURLEncoding.EncodeToString(b)
	return items[off:end], base + u.String()
}
