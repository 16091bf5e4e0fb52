// SPDX-License-Identifier: Apache-2.0

// Package saslprep prepares a password for SCRAM as PostgreSQL does:
// the SASLprep profile (RFC 4013) of stringprep (RFC 3454), which RFC
// 7677 asks of SCRAM-SHA-256 clients.
//
// PostgreSQL applies the profile to a password when it stores its SCRAM
// verifier and when libpq logs in, and both fall back to the password's
// bytes when it is not UTF-8 or the profile prohibits it; Prepare
// returns an error in those cases, and its callers log in with the raw
// password like libpq. Two details follow PostgreSQL rather than the
// letter of the RFC, so that the result is the server's: an ASCII
// password is used as it is (control characters included), and the
// prohibited-output and bidirectional checks are made on the mapped
// string before normalisation (src/common/saslprep.c). NFKC uses the
// Unicode version of golang.org/x/text; the tables are RFC 3454's
// (Unicode 3.2), generated into tables.go.
package saslprep

//go:generate sh -c "python3 gen_tables.py > tables.go && gofmt -w tables.go"
