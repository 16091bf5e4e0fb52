// SPDX-License-Identifier: Apache-2.0

// Fuzz target: Classify never panics, every statement is classified or
// says why not, and statement texts come from the query.

package sqlclass

import (
	"strings"
	"testing"
)

func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "EXPLAIN (ANALYZE) DELETE FROM t",
		"SELECT $a$;$a$; DROP TABLE x", "SELECT E'\\'' FROM \"q\"\"t\"", "/* /* */ */ SELECT 1 -- x",
		"CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END", "PREPARE p AS UPDATE t SET a = 1", "COPY (SELECT 1) TO STDOUT",
		"GRANT SELECT ON t TO u", "SELECT extract(year from ts) FROM t", "U&\"a\" U&'b'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, st := range Classify(q) {
			if (st.Type == "") == (st.Unknown == "") {
				t.Fatalf("%q: type %q, unknown %q: want exactly one", q, st.Type, st.Unknown)
			}
			if !strings.Contains(q, st.Text) && !strings.Contains(strings.TrimSpace(q), st.Text) {
				t.Fatalf("%q: statement text %q is not in the query", q, st.Text)
			}
		}
	})
}
