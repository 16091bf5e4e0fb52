// SPDX-License-Identifier: Apache-2.0

// JSONPath parsing.

package policy

import (
	"fmt"
	"testing"
)

func TestParseJSONPath(t *testing.T) {
	tests := []struct {
		in   string
		want string // segments, or the error
	}{
		{"$", "[]"},
		{"$.keys[*].value", "[{1 keys 0} {3  0} {1 value 0}]"},
		{"$..connectionString", "[{4 connectionString 0}]"},
		{"$..*", "[{5  0}]"},
		{"$.a.*", "[{1 a 0} {3  0}]"},
		{"$['primary key'][0]", "[{1 primary key 0} {2  0}]"},
		{`$["x"][-1]`, "[{1 x 0} {2  -1}]"},
		{"$.properties.accessKeys.key1", "[{1 properties 0} {1 accessKeys 0} {1 key1 0}]"},
		{"keys", `a path starts with "$"`},
		{"$.", "column 3: want a member name or * after the dot"},
		{"$..", "column 4: want a member name or * after the double dot"},
		{"$[", "column 2: missing ]"},
		{"$[?(@.x)]", "column 2: want [*], [n] or ['name'], got [?(@.x)]"},
		{"$['x", "column 2: unterminated quoted name (want ['name'])"},
		{"$[1:2]", "column 2: want [*], [n] or ['name'], got [1:2]"},
		{"$x", `column 2: unexpected 'x' (want ., .. or [)`},
		{"$.9a", "column 3: want a member name or * after the dot"},
	}
	for _, tt := range tests {
		p, err := ParseJSONPath(tt.in)
		var got string
		if err != nil {
			got = err.Error()
		} else {
			got = fmt.Sprint(p.Segments)
			if p.Segments == nil {
				got = "[]"
			}
			if p.String() != tt.in {
				t.Errorf("String() = %q, want %q", p.String(), tt.in)
			}
		}
		if got != tt.want {
			t.Errorf("ParseJSONPath(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
