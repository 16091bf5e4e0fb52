// SPDX-License-Identifier: Apache-2.0

// Package sqlclass classifies PostgreSQL SQL for policy decisions: for a
// query string (one or more statements) it returns, per statement, the
// command (SELECT, INSERT, DROP, ...), the tables it names, the functions
// it calls and whether it has a WHERE clause — the fields of policy.SQL.
//
// It is a lexer and a few hand-written rules, not a parser. The lexer
// knows PostgreSQL's tokens exactly: -- and nested /* */ comments, '...'
// with ” escapes, E'...' with backslash escapes, U&'...', B'...',
// X'...', $tag$...$tag$ dollar quoting, "quoted" identifiers (kept as
// written) and unquoted ones (lower-cased), and positional parameters
// ($1). Statements are split at top-level semicolons (a CREATE FUNCTION's
// BEGIN ATOMIC ... END body stays whole).
//
// Classification rules worth knowing when writing policies:
//   - WITH ... the main statement's command; but when a WITH query
//     modifies data (WITH d AS (DELETE ...) SELECT ...), the statement is
//     classified by the modifying one.
//   - EXPLAIN ANALYZE runs its statement: it is classified as that
//     statement. Plain EXPLAIN is EXPLAIN (with the inner tables).
//   - SELECT ... INTO t creates a table: CREATE. PREPARE n AS stmt is
//     classified as stmt; EXECUTE n as EXECUTE (the handler resolves n).
//   - VALUES and TABLE t are SELECT; START TRANSACTION is BEGIN; END is
//     COMMIT; ABORT is ROLLBACK.
//   - Tables: names after FROM, JOIN, UPDATE, INTO, USING, TABLE, TRUNCATE,
//     COPY, LOCK, and the objects of CREATE/ALTER/DROP TABLE, VIEW,
//     MATERIALIZED VIEW, FOREIGN TABLE, INDEX ... ON and GRANT/REVOKE ... ON.
//     A reference to a WITH query's name is listed too (Statement.With
//     names them): a WITH query does not see itself or the ones after it,
//     so such a reference may be the table's. Qualified names keep their
//     qualification ("sales.orders").
//   - Functions: every name followed by "(" that is not a keyword, a type
//     with modifiers (varchar(10)), a table or the object of CREATE/DROP
//     FUNCTION; qualified names keep their qualification.
//
// Sharp edges:
//   - Anything the rules do not recognise is Unknown (Statement.Unknown
//     says why): an unknown command, an unterminated string, comment or
//     quoted identifier, an unbalanced parenthesis, and names the fields
//     would misstate: U&"..." identifiers (escapes undecoded) and quoted
//     identifiers holding a dot ("a.b" would read as schema a, name b).
//     Callers fail closed.
//   - Bodies of DO blocks and functions are strings: what they run is not
//     classified. Write policies on DO, CREATE FUNCTION and CALL.
//   - Classify is pure and safe for concurrent use.
package sqlclass
