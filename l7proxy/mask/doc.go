// SPDX-License-Identifier: Apache-2.0

// Package mask removes secrets from response bodies before they leave the
// proxy — to the agent and to the recording — as a policy decision says:
// JSON path rules replace selected values, detectors replace what they
// recognise, and the counts go into the recording (MaskApplied).
//
// A Masker is built with New from a decision's Masks and Detectors (see
// l7proxy/policy). JSON streams a JSON document through a validating
// parser, Text streams any other body through the detectors, Body picks
// one by Content-Type, and Decode removes gzip or deflate first.
//
// Detectors (policy.KnownDetectors), each replacing the secret, and only
// the secret, with a fixed marker such as [MASKED:azure-storage-key]:
//
//	azure-storage-key        88-character base64 account keys; AccountKey= values
//	azure-sas                sig= values of shared access signatures
//	azure-connection-string  AccountKey, SharedAccessKey, SharedAccessSignature,
//	                         Password and Pwd values in connection strings
//	entra-client-secret      Entra ID client secrets (...8Q~...)
//	jwt                      JWS/JWE compact tokens whose header has alg
//	private-key              PEM blocks labelled ... PRIVATE KEY ...
//	email                    addresses with a letters-only TLD
//	credit-card              13-19 digits, grouped or not, issuer prefix and Luhn
//	iban                     IBANs with their country's length and mod-97 check
//
// Values selected by a JSON path become the string "[MASKED]" whatever
// their type. A mask with a path and detectors scans only the selected
// values (and everything inside them) with those detectors. Paths match
// member names exactly (case-sensitively), after escapes are decoded.
//
// # Sharp edges
//
//   - Fail closed. Every error means the body was not fully masked:
//     *TooLargeError (Options.MaxBytes, of decoded bytes), *SyntaxError
//     (not JSON, or nested deeper than Options.MaxDepth), ErrNeedsJSON
//     (path rules on a non-JSON body), *EncodingError (br, an unknown
//     coding, a UTF-16 charset), and read, write and context errors.
//     Output is streamed, so on error a masked prefix may have been
//     written: abort the response (close the connection, reset the
//     stream) rather than end it. To be able to answer with an error
//     instead, mask into a buffer first.
//   - Memory: JSON and Text keep about 100 KiB per call whatever the body
//     size, except that a JSON path with a negative index ($.value[-1])
//     reads the whole body (up to the limit) before writing anything.
//   - Output is not compressed, and its length differs from the input's:
//     drop Content-Encoding and Content-Length (see Decode).
//   - Unchanged strings and numbers are copied byte for byte; a string
//     with a match, or one longer than 64 KiB, is re-escaped (valid JSON,
//     perhaps different escapes); a number with a match becomes a string.
//   - Detectors trade recall for few false positives: they look for the
//     shapes above and skip lookalikes (a sha512- hash, image@2x.png, a
//     timestamp). Matches are found across read boundaries: every detector
//     decides from at most 128 bytes before and 32 KiB after a match.
//   - A Masker is immutable and safe for concurrent use; a call's Result
//     is its own. Build a Masker per decision (New is cheap), and share a
//     Pool (Options.Pool) between them.
package mask
