// SPDX-License-Identifier: Apache-2.0

// The catalog of masked columns: which (table OID, attribute number)
// pairs are columns named by the bundle's column rules, asked of the
// server on the session's own connection at a point where nothing of
// the client's is pending, so that a result column that is a plain
// reference to a masked column is masked whatever its alias.

package postgres

import (
	"strconv"
	"strings"

	"github.com/interlockhq/interlock/l7proxy/pgwire"
)

// Names of the catalog lookup's prepared statement and portal; closed
// after use.
const (
	catalogStatement = "interlock_catalog"
	// Every function, operator and type is schema-qualified: the session
	// is the agent's, and an agent that creates public.lower(name) or
	// puts its own schema before pg_catalog in search_path must not be
	// able to make this lookup answer "no masked columns".
	catalogQuery = `SELECT a.attrelid, a.attnum, pg_catalog.lower(a.attname::pg_catalog.text), pg_catalog.lower(c.relname::pg_catalog.text) ` +
		`FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid ` +
		`WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped ` +
		`AND pg_catalog.lower(a.attname::pg_catalog.text) OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])`
)

// catalog is the server's answer: owned by the backend loop.
type catalog struct {
	cols map[colKey]string // (table, attnum) → column name, lower case
	rels map[string]bool   // relation names holding such a column, lower case
}

type colKey struct {
	table uint32
	attr  uint16
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

// lookupCatalog asks the server for the masked columns, ahead of the
// client's next message, when the bundle has column rules and the
// session's answer is missing or stale. Only at a sync point: the
// lookup ends with its own Sync, which must not end a client's
// unsynced extended-protocol batch.
func (s *session) lookupCatalog() error {
	f := &s.frontendState
	if !f.synced || !f.catalogStale {
		return nil
	}
	names := s.columnRuleNames()
	f.catalogStale = false
	if len(names) == 0 {
		return nil
	}
	arr := make([]string, len(names))
	for i, n := range names {
		arr[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n) + `"`
	}
	msgs := [][]byte{
		(&pgwire.Parse{Name: catalogStatement, Query: catalogQuery}).Encode(nil),
		(&pgwire.Bind{Portal: catalogStatement, Statement: catalogStatement, Params: [][]byte{[]byte("{" + strings.Join(arr, ",") + "}")}}).Encode(nil),
		(&pgwire.Execute{Portal: catalogStatement}).Encode(nil),
		(&pgwire.Close{Kind: 'P', Name: catalogStatement}).Encode(nil),
		(&pgwire.Close{Kind: 'S', Name: catalogStatement}).Encode(nil),
		pgwire.Sync{}.Encode(nil),
	}
	s.push(&expect{kind: expCatalog})
	for _, m := range msgs {
		if _, err := s.upW.Write(m); err != nil {
			return err
		}
	}
	return nil
}

// onCatalog takes the server's messages answering the lookup; none is
// relayed. An error leaves the catalog unknown (tracing fails closed).
func (s *session) onCatalog(b *backendState, typ byte, body []byte) error {
	switch typ {
	case pgwire.TypeDataRow:
		if b.catalogNext == nil {
			b.catalogNext = &catalog{cols: map[colKey]string{}, rels: map[string]bool{}}
		}
		if err := b.row.Decode(body); err != nil || len(b.row.Values) != 4 {
			b.catalogFailed = true
			return nil
		}
		oid, err1 := strconv.ParseUint(string(b.row.Values[0]), 10, 32)
		att, err2 := strconv.ParseUint(string(b.row.Values[1]), 10, 16)
		if err1 != nil || err2 != nil {
			b.catalogFailed = true
			return nil
		}
		b.catalogNext.cols[colKey{uint32(oid), uint16(att)}] = string(b.row.Values[2])
		b.catalogNext.rels[string(b.row.Values[3])] = true
	case pgwire.TypeErrorResponse:
		b.catalogFailed = true
	case pgwire.TypeReadyForQuery:
		if err := b.rfq.Decode(body); err != nil {
			return err
		}
		s.txStatus.Store(uint32(b.rfq.Status))
		if !b.catalogFailed {
			if b.catalogNext == nil {
				b.catalogNext = &catalog{}
			}
			b.catalog = b.catalogNext
		} else {
			// Unknown, not the previous answer: tracing fails closed.
			b.catalog = nil
			s.h.log.Warn("masked-column catalog lookup failed: untraceable columns are refused", "target", s.target.Name)
		}
		b.catalogNext, b.catalogFailed = nil, false
		s.pop()
	}
	return nil
}
