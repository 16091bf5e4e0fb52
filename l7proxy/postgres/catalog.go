// SPDX-License-Identifier: Apache-2.0

// The catalog the handler reads on the session's own connection, at a
// point where nothing of the client's is pending: the columns named by
// the bundle's column rules, so that a result column that is a plain
// reference to a masked column is masked whatever its alias; the views
// (and materialized views) and what they read, so that a statement on a
// view is decided as one on the relations under it and a view column that
// may carry a masked column is refused; and the functions the database
// defines, whose results cannot be traced.

package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/sqlclass"
)

// catalogStatementPrefix starts the name of the catalog lookup's prepared
// statement and portal (closed after use); the rest is random per session
// (newCatalogName), so that a client cannot take the name and make the
// lookup fail.
const catalogStatementPrefix = "interlock_catalog_"

// newCatalogName returns a name for a session's catalog lookup.
func newCatalogName() string {
	return catalogStatementPrefix + rand.Text()
}

// Every function, operator, type and catalog is schema-qualified: the
// session is the agent's, and an agent that creates public.lower(name)
// or puts its own schema before pg_catalog in search_path must not be
// able to change what this lookup answers.
//
// Rows are (kind, oid, attnum, a, b, c):
//
//	c: a column named by a column rule: relation, attnum, column, relation name;
//	t: a view whose columns may carry a masked column (it reads one, or a
//	   function of the database's own, directly or through other views):
//	   view, 0, "", view name;
//	v: a relation a view reads, directly or through other views:
//	   view, 0, relation name, view name, relation's schema;
//	f: a function outside pg_catalog and information_schema that no
//	   extension installed (the database's own: it may read anything):
//	   0, 0, name;
//	r: a relation (table, view, materialized view, foreign table): oid,
//	   0, "", name;
//	h: a relation that runs a function of the database's own when it is
//	   written (a trigger, a default: how "w") or that one takes as its
//	   argument (called as an attribute, t.f: how "a"): oid, 0, how, name;
//	o: present if an operator or a cast runs a function of the
//	   database's own: any statement may call one unseen;
//	i: the isolation level the lookup ran in: 0, 0, level.
//
// $1 are the masked column names, $2 the functions that run SQL text.
var catalogQuery = `WITH RECURSIVE ` + catalogFingerprint +
	`masked AS (SELECT a.attrelid AS rel, a.attnum AS att, pg_catalog.lower(a.attname::pg_catalog.text) AS col ` +
	`FROM pg_catalog.pg_attribute a WHERE (SELECT fp.changed FROM fp) AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped ` +
	`AND pg_catalog.lower(a.attname::pg_catalog.text) OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])), ` +
	`dep AS (SELECT r.ev_class AS view, d.refclassid AS cls, d.refobjid AS ref, d.refobjsubid AS att ` +
	`FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid ` +
	`WHERE (SELECT fp.changed FROM fp) AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass ` +
	`AND d.refobjid OPERATOR(pg_catalog.<>) r.ev_class), ` +
	`ownfn AS (SELECT p.oid, pg_catalog.lower(p.proname::pg_catalog.text) AS name FROM pg_catalog.pg_proc p ` +
	`JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace ` +
	`WHERE (SELECT fp.changed FROM fp) AND NOT (n.nspname OPERATOR(pg_catalog.=) ANY ('{pg_catalog,information_schema}'::pg_catalog.name[])) ` +
	`AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass ` +
	`AND e.objid OPERATOR(pg_catalog.=) p.oid AND e.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog.char)), ` +
	`reads(view, rel) AS (SELECT dep.view, dep.ref FROM dep WHERE dep.cls OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass ` +
	`UNION SELECT reads.view, dep.ref FROM reads JOIN dep ON dep.view OPERATOR(pg_catalog.=) reads.rel ` +
	`WHERE dep.cls OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass), ` +
	`hooked(rel, how) AS (SELECT t.tgrelid, 'w' FROM pg_catalog.pg_trigger t JOIN ownfn ON ownfn.oid OPERATOR(pg_catalog.=) t.tgfoid WHERE (SELECT fp.changed FROM fp) ` +
	`UNION SELECT d.adrelid, 'w' FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_depend x ON (SELECT fp.changed FROM fp) AND x.objid OPERATOR(pg_catalog.=) d.oid ` +
	`AND x.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass ` +
	`AND x.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass JOIN ownfn ON ownfn.oid OPERATOR(pg_catalog.=) x.refobjid ` +
	`UNION SELECT c.oid, 'a' FROM pg_catalog.pg_class c JOIN pg_catalog.pg_proc p ON (SELECT fp.changed FROM fp) AND p.pronargs OPERATOR(pg_catalog.=) 1 ` +
	`AND p.proargtypes[0] OPERATOR(pg_catalog.=) c.reltype JOIN ownfn ON ownfn.oid OPERATOR(pg_catalog.=) p.oid), ` +
	`tainted(view) AS (SELECT dep.view FROM dep JOIN masked ON dep.ref OPERATOR(pg_catalog.=) masked.rel ` +
	`AND (dep.att OPERATOR(pg_catalog.=) masked.att OR dep.att OPERATOR(pg_catalog.=) 0) ` +
	`WHERE dep.cls OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass ` +
	`UNION SELECT dep.view FROM dep JOIN ownfn ON ownfn.oid OPERATOR(pg_catalog.=) dep.ref ` +
	`WHERE dep.cls OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass ` +
	`UNION SELECT dep.view FROM dep JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) dep.ref ` +
	`WHERE dep.cls OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass ` +
	`AND pg_catalog.lower(p.proname::pg_catalog.text) OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[]) ` +
	// pg_depend records no dependency on pg_catalog's own functions:
	// a view naming a SQL-text one is found by its definition.
	`UNION SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace ` +
	`WHERE (SELECT fp.changed FROM fp) AND c.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::pg_catalog.char[]) ` +
	`AND NOT (n.nspname OPERATOR(pg_catalog.=) ANY ('{pg_catalog,information_schema}'::pg_catalog.name[])) ` +
	`AND EXISTS (SELECT 1 FROM pg_catalog.unnest($2::pg_catalog.text[]) fn(name) WHERE pg_catalog.lower(pg_catalog.pg_get_viewdef(c.oid)) ` +
	`OPERATOR(pg_catalog.~) ('\m' OPERATOR(pg_catalog.||) fn.name OPERATOR(pg_catalog.||) '\s*\(')) ` +
	`UNION SELECT dep.view FROM dep JOIN tainted ON dep.ref OPERATOR(pg_catalog.=) tainted.view ` +
	`WHERE dep.cls OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass) ` +
	`SELECT 'c', m.rel::pg_catalog.text, m.att::pg_catalog.text, m.col, pg_catalog.lower(c.relname::pg_catalog.text), '' ` +
	`FROM masked m JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.rel ` +
	`UNION ALL SELECT 't', t.view::pg_catalog.text, '0', '', pg_catalog.lower(c.relname::pg_catalog.text), '' ` +
	`FROM tainted t JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.view ` +
	`UNION ALL SELECT 'v', r.view::pg_catalog.text, '0', pg_catalog.lower(b.relname::pg_catalog.text), pg_catalog.lower(v.relname::pg_catalog.text), pg_catalog.lower(n.nspname::pg_catalog.text) ` +
	`FROM reads r JOIN pg_catalog.pg_class v ON v.oid OPERATOR(pg_catalog.=) r.view JOIN pg_catalog.pg_class b ON b.oid OPERATOR(pg_catalog.=) r.rel ` +
	`JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) b.relnamespace ` +
	`UNION ALL SELECT DISTINCT 'f', '0', '0', ownfn.name, '', '' FROM ownfn ` +
	`UNION ALL SELECT 'r', c.oid::pg_catalog.text, '0', '', pg_catalog.lower(c.relname::pg_catalog.text), '' FROM pg_catalog.pg_class c ` +
	`WHERE (SELECT fp.changed FROM fp) AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f,S}'::pg_catalog.char[]) ` +
	`UNION ALL SELECT 'i', '0', '0', pg_catalog.current_setting('transaction_isolation'), '', '' ` +
	`UNION ALL SELECT 'p', '0', '0', fp.v, '', '' FROM fp ` +
	`UNION ALL SELECT 'h', h.rel::pg_catalog.text, '0', h.how, pg_catalog.lower(c.relname::pg_catalog.text), '' ` +
	`FROM hooked h JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) h.rel ` +
	`UNION ALL SELECT 'o', '0', '0', '', '', '' WHERE (SELECT fp.changed FROM fp) AND (EXISTS (SELECT 1 FROM pg_catalog.pg_operator o JOIN ownfn ` +
	`ON ownfn.oid OPERATOR(pg_catalog.=) o.oprcode::pg_catalog.oid) OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast k JOIN ownfn ` +
	`ON ownfn.oid OPERATOR(pg_catalog.=) k.castfunc))`

// catalogFingerprint is the lookup's first WITH query: a fingerprint of
// the catalogs the lookup reads (each one's row count and the sum of its
// rows' xmin: a row added, changed or removed changes it) and of its
// parameters. Unless it differs from $3, the one the session last read,
// the lookup reads nothing else and answers it with the isolation level:
// the session keeps the catalog it has, and a statement pays a few scans
// rather than the whole lookup.
var catalogFingerprint = `fp AS (SELECT x.v, x.v OPERATOR(pg_catalog.<>) $3::pg_catalog.text AS changed FROM (SELECT pg_catalog.concat_ws(',', ` +
	`$1::pg_catalog.text[]::pg_catalog.text, $2::pg_catalog.text[]::pg_catalog.text` +
	fpOf("pg_class") + fpOf("pg_attribute") + fpOf("pg_proc") + fpOf("pg_rewrite") + fpOf("pg_trigger") +
	fpOf("pg_attrdef") + fpOf("pg_operator") + fpOf("pg_cast") + fpOf("pg_namespace") +
	`) AS v) x), `

// fpOf is the fingerprint term of one catalog.
func fpOf(table string) string {
	return `, (SELECT pg_catalog.count(*)::pg_catalog.text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) ` +
		`COALESCE(pg_catalog.sum(t.xmin::pg_catalog.text::pg_catalog.int8), 0)::pg_catalog.text FROM pg_catalog.` + table + ` t)`
}

// catalog is the server's answer: built by the backend loop, then
// read-only (the frontend reads it through session.cat).
type catalog struct {
	cols        map[colKey]string   // (table, attnum) → column name, lower case
	rels        map[string]bool     // relation names holding such a column, lower case
	views       map[string][]string // view name → the relations it reads, as "name" and "schema.name"
	tainted     map[uint32]bool     // views whose columns may carry a masked column
	opaqueViews map[string]bool     // their names
	funcs       map[string]bool     // names of the database's own functions
	known       map[uint32]bool     // every relation, when the catalog was read
	knownNames  map[string]bool     // their names
	hookedWrite map[string]bool     // relations whose writes run functions of the database's own
	hookedRead  map[string]bool     // relations such a function takes as its argument (t.f)
	hiddenCalls bool                // an operator or cast runs one
	// snapshot: the lookup ran in a transaction's snapshot (REPEATABLE
	// READ or SERIALIZABLE), older than the definitions the server plans
	// with.
	snapshot bool
	fp       string // the fingerprint it was read at
	full     bool   // the answer held the catalog, not only "unchanged"
}

func newCatalog() *catalog {
	return &catalog{cols: map[colKey]string{}, rels: map[string]bool{}, views: map[string][]string{}, tainted: map[uint32]bool{}, opaqueViews: map[string]bool{}, funcs: map[string]bool{}, known: map[uint32]bool{}, knownNames: map[string]bool{}, hookedWrite: map[string]bool{}, hookedRead: map[string]bool{}}
}

type colKey struct {
	table uint32
	attr  uint16
}

// sqlTextFunctions are pg_catalog functions that run a query given as
// text, or read a whole table or schema named by a string: what they
// return cannot be traced to columns.
var sqlTextFunctions = map[string]bool{
	"query_to_xml": true, "query_to_xmlschema": true, "query_to_xml_and_xmlschema": true,
	"cursor_to_xml": true, "cursor_to_xmlschema": true,
	"table_to_xml": true, "table_to_xmlschema": true, "table_to_xml_and_xmlschema": true,
	"schema_to_xml": true, "schema_to_xmlschema": true, "schema_to_xml_and_xmlschema": true,
	"database_to_xml": true, "database_to_xmlschema": true, "database_to_xml_and_xmlschema": true,
	"ts_stat": true,
	// Extensions' (not among the database's own functions): dblink's,
	// tablefunc's.
	"dblink": true, "dblink_exec": true, "dblink_send_query": true, "dblink_get_result": true,
	"dblink_fetch": true, "dblink_open": true,
	"crosstab": true, "crosstab2": true, "crosstab3": true, "crosstab4": true, "connectby": true,
	// What the planner's statistics hold.
	"pg_mcv_list_items": true,
}

// pgTextArray is names as a PostgreSQL text[] literal.
func pgTextArray(names []string) []byte {
	arr := make([]string, len(names))
	for i, n := range names {
		arr[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n) + `"`
	}
	return []byte("{" + strings.Join(arr, ",") + "}")
}

// relName is a classified relation or function name (maybe qualified,
// maybe quoted) as the catalog keys it: unqualified, lower case.
func relName(t string) string {
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return strings.ToLower(strings.Trim(t, `"`))
}

// reads reports whether one of tables, or a relation a view among them
// reads, has a masked column; by relation name, whatever the schema.
func (c *catalog) reads(tables []string) bool {
	for _, t := range tables {
		n := relName(t)
		if c.rels[n] {
			return true
		}
		for _, b := range c.views[n] {
			if !strings.Contains(b, ".") && c.rels[b] {
				return true
			}
		}
	}
	return false
}

// expand returns tables with the relations the views among them read
// added (unqualified and qualified), each once.
func (c *catalog) expand(tables []string) []string {
	out := tables
	for _, t := range tables {
		for _, b := range c.views[relName(t)] {
			if !slices.Contains(out, b) {
				if len(out) == len(tables) {
					out = slices.Clone(tables)
				}
				out = append(out, b)
			}
		}
	}
	return out
}

// mayReadAnything reports whether a statement naming tables and calling
// functions may run a function of the database's own, which may read any
// table: it calls one, or SQL-text one; one of tables is a view whose
// columns may carry a masked column, or runs one (a trigger, a default,
// t.f); or operators and casts may call one unseen.
func (c *catalog) mayReadAnything(tables, functions []string, writes bool) bool {
	if c.hiddenCalls || c.opaque(functions) != "" {
		return true
	}
	for _, t := range tables {
		n := relName(t)
		if c.opaqueViews[n] || c.hookedRead[n] || statsRelations[n] || (writes && c.hookedWrite[n]) {
			return true
		}
	}
	return false
}

// statsRelations show the values of any table's columns (the planner's
// statistics): read as every table with a masked column.
var statsRelations = map[string]bool{
	"pg_stats": true, "pg_stats_ext": true, "pg_stats_ext_exprs": true, "pg_statistic": true, "pg_statistic_ext_data": true,
}

// hooks reports whether one of tables runs a function of the database's
// own when written.
func (c *catalog) hooks(tables []string) bool {
	for _, t := range tables {
		if c.hookedWrite[relName(t)] {
			return true
		}
	}
	return false
}

// namesView reports whether one of tables is a view (or materialized
// view) the catalog knows.
func (c *catalog) namesView(tables []string) bool {
	for _, t := range tables {
		n := relName(t)
		if _, ok := c.views[n]; ok || c.opaqueViews[n] {
			return true
		}
	}
	return false
}

// unknown returns a relation among tables, WITH query names aside, that
// the catalog does not know (made since it was read), "" if none.
func (c *catalog) unknown(tables, with []string) string {
	for _, t := range tables {
		if !c.knownNames[relName(t)] && !slices.Contains(with, t) {
			return t
		}
	}
	return ""
}

// masked returns the names of the relations that have a masked column.
func (c *catalog) masked() []string {
	out := make([]string, 0, len(c.rels))
	for r := range c.rels {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// opaque returns a function among functions whose result cannot be traced
// to columns: one of the database's own, or one that runs SQL text; "" if
// none.
func (c *catalog) opaque(functions []string) string {
	for _, f := range functions {
		n := relName(f)
		if c.funcs[n] || sqlTextFunctions[n] {
			return f
		}
	}
	return ""
}

// columnRuleNames are the column names of the bundle's column rules, in
// lower case.
func (s *session) columnRuleNames() []string {
	b := s.h.cfg.Policy()
	if b == nil {
		return nil
	}
	var out []string
	for _, r := range b.Rules() {
		for _, m := range r.Masks {
			if m != nil && m.Column != "" && !containsFold(out, m.Column) {
				out = append(out, strings.ToLower(m.Column))
			}
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// lookupCatalog asks the server for the catalog, ahead of the client's
// next message, when the session's answer is missing or stale. Only at a
// sync point: the lookup ends with its own Sync, which must not end a
// client's unsynced extended-protocol batch. The frontend waits for the
// answer before it decides a statement that names a relation
// (catalogNow).
func (s *session) lookupCatalog() error {
	f := &s.frontendState
	if s.catalogOutdated.Swap(false) {
		f.catalogStale = true // a result named a relation the catalog did not know
	}
	if !f.synced || !f.catalogStale || s.txStatus.Load() == pgwire.TxFailed {
		// In a failed transaction the lookup would fail too: after it ends.
		return nil
	}
	f.catalogStale = false
	fns := make([]string, 0, len(sqlTextFunctions))
	for n := range sqlTextFunctions {
		fns = append(fns, n)
	}
	slices.Sort(fns)
	name := s.catalogName
	prev := ""
	if c := s.cat.Load(); c != nil {
		prev = c.fp
	}
	msgs := [][]byte{
		(&pgwire.Parse{Name: name, Query: catalogQuery}).Encode(nil),
		(&pgwire.Bind{Portal: name, Statement: name, Params: [][]byte{pgTextArray(s.columnRuleNames()), pgTextArray(fns), []byte(prev)}}).Encode(nil),
		(&pgwire.Execute{Portal: name}).Encode(nil),
		(&pgwire.Close{Kind: 'P', Name: name}).Encode(nil),
		(&pgwire.Close{Kind: 'S', Name: name}).Encode(nil),
		pgwire.Sync{}.Encode(nil),
	}
	done := make(chan struct{})
	f.catalogPending = done
	s.push(&expect{kind: expCatalog, done: done})
	for _, m := range msgs {
		if _, err := s.upW.Write(m); err != nil {
			return err
		}
	}
	return nil
}

// wantsFreshCatalog says whether a Query, Parse or Bind is to be decided
// on a catalog read for it: when the policy masks columns and what it runs
// names a view (which another session may have redefined since the
// catalog was read) or a relation the catalog does not know (made since),
// calls a function that is not a common built-in one (perhaps made
// since), or writes (a rule or trigger may have been added since). An
// EXECUTE or a Bind is judged by the statement it runs, a FETCH by its
// cursor's. Reading it costs the message a few milliseconds; deciding on
// a stale one could let a masked column out.
func (s *session) wantsFreshCatalog(typ byte, body []byte) bool {
	cat := s.cat.Load()
	if cat == nil || len(s.columnRuleNames()) == 0 {
		return false // none yet (being read), or nothing to decide with it
	}
	var sts []sqlclass.Statement
	switch typ {
	case pgwire.TypeQuery:
		var q pgwire.Query
		if q.Decode(body) != nil {
			return false // refused as malformed, later
		}
		sts = s.classify(q.String)
	case pgwire.TypeParse:
		var p pgwire.Parse
		if p.Decode(body) != nil {
			return false
		}
		sts = s.classify(p.Query)
	case pgwire.TypeBind:
		var b pgwire.Bind
		if b.Decode(body) != nil {
			return false
		}
		if p := s.stmts[b.Statement]; p != nil {
			sts = p.sts
		}
	default:
		return false
	}
	for _, st := range sts {
		switch st.Type {
		case "EXECUTE":
			st = s.sqlPrepared[st.Name]
		case "FETCH", "MOVE":
			st = s.cursors[st.Name]
		}
		if writes(st) {
			return true
		}
		for _, t := range st.Tables {
			n := relName(t)
			if _, view := cat.views[n]; view || cat.opaqueViews[n] || (!cat.knownNames[n] && !slices.Contains(st.With, t)) {
				return true
			}
		}
		for _, f := range st.Functions {
			if !commonBuiltins[relName(f)] {
				return true
			}
		}
	}
	return false
}

// commonBuiltins are pg_catalog functions agents call often, which no
// session can redefine: a statement calling only these needs no fresh
// catalog for its functions.
var commonBuiltins = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true, "now": true, "lower": true, "upper": true,
	"coalesce": true, "nullif": true, "length": true, "substring": true, "substr": true, "trim": true,
	"round": true, "floor": true, "ceil": true, "abs": true, "date_trunc": true, "extract": true,
	"to_char": true, "to_date": true, "to_timestamp": true, "concat": true, "replace": true,
	"string_agg": true, "array_agg": true, "json_agg": true, "jsonb_agg": true, "exists": true,
	"current_date": true, "current_timestamp": true, "greatest": true, "least": true, "random": true,
	"generate_series": true, "unnest": true, "row_number": true, "rank": true, "dense_rank": true,
	"lag": true, "lead": true, "cast": true, "version": true, "pg_sleep": true, "any": true, "all": true,
}

// errNoCatalog refuses a statement naming a relation when the catalog
// could not be read: the handler cannot tell a view from a table.
var errNoCatalog = errors.New("interlock: the catalog of views could not be read, so what this statement reads is unknown: refused (fail closed)")

// errStaleCatalog refuses a statement naming a relation after a schema
// change in the same extended-protocol batch.
var errStaleCatalog = errors.New("interlock: a statement naming relations after a schema change in the same batch: refused (fail closed); send a Sync between them")

// catalogNow returns the catalog for deciding a statement: the answer to
// a lookup still in flight is waited for (sent first: the frontend's
// writes are buffered). Nil with errNoCatalog when it could not be read.
func (s *session) catalogNow(ctx context.Context) (*catalog, error) {
	f := &s.frontendState
	if f.catalogPending != nil {
		if err := s.flushUp(); err != nil {
			return nil, fmt.Errorf("upstream: %w", err)
		}
		select {
		case <-f.catalogPending:
			f.catalogPending = nil
		case <-s.backendDone:
			return nil, errNoCatalog
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := s.cat.Load()
	if c == nil {
		f.catalogStale = true // read again at the next sync point
		return nil, errNoCatalog
	}
	return c, nil
}

// onCatalog takes the server's messages answering the lookup; none is
// relayed. An error leaves the catalog unknown (tracing fails closed).
func (s *session) onCatalog(b *backendState, e *expect, typ byte, body []byte) error {
	switch typ {
	case pgwire.TypeDataRow:
		if b.catalogNext == nil {
			b.catalogNext = newCatalog()
		}
		if err := b.row.Decode(body); err != nil || len(b.row.Values) != 6 || !b.catalogNext.add(b.row.Values) {
			b.catalogFailed = true
		}
	case pgwire.TypeErrorResponse:
		b.catalogFailed = true
	case pgwire.TypeReadyForQuery:
		if err := b.rfq.Decode(body); err != nil {
			return err
		}
		s.txStatus.Store(uint32(b.rfq.Status))
		next := b.catalogNext
		if !b.catalogFailed && (next == nil || !next.full) {
			// "Unchanged since the catalog you have": kept, with the
			// isolation level this answer ran at. Unchanged since another
			// one than the session now has: unknown.
			if next != nil && b.catalog != nil && next.fp == b.catalog.fp {
				kept := *b.catalog
				kept.snapshot = next.snapshot
				next = &kept
			} else {
				b.catalogFailed = true
			}
		}
		if !b.catalogFailed {
			b.catalog = next
		} else {
			// Unknown, not the previous answer: tracing fails closed.
			b.catalog = nil
			s.h.log.Warn("catalog lookup failed: untraceable columns and statements naming relations are refused", "target", s.target.Name)
		}
		s.cat.Store(b.catalog)
		b.catalogNext, b.catalogFailed = nil, false
		s.pop()
		close(e.done)
	}
	return nil
}

// add takes one row of the lookup; false if it is malformed.
func (c *catalog) add(v [][]byte) bool {
	oid, err1 := strconv.ParseUint(string(v[1]), 10, 32)
	att, err2 := strconv.ParseUint(string(v[2]), 10, 16)
	if err1 != nil || err2 != nil {
		return false
	}
	a, name, schema := string(v[3]), string(v[4]), string(v[5])
	switch string(v[0]) {
	case "c":
		c.cols[colKey{uint32(oid), uint16(att)}] = a
		c.rels[name] = true
	case "t":
		c.tainted[uint32(oid)] = true
		c.opaqueViews[name] = true
	case "v":
		for _, r := range []string{a, schema + "." + a} {
			if !slices.Contains(c.views[name], r) {
				c.views[name] = append(c.views[name], r)
			}
		}
	case "f":
		c.funcs[a] = true
	case "p":
		c.fp = a
	case "r":
		c.full = true
		c.known[uint32(oid)] = true
		c.knownNames[name] = true
	case "h":
		if a == "w" {
			c.hookedWrite[name] = true
		} else {
			c.hookedRead[name] = true
		}
	case "o":
		c.hiddenCalls = true
	case "i":
		c.snapshot = a != "read committed" && a != "read uncommitted"
	default:
		return false
	}
	return true
}
