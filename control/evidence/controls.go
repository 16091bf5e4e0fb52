// SPDX-License-Identifier: Apache-2.0

// The NIST SP 800-53 control map: which files of a bundle evidence which
// control, and why.

package evidence

// Control is one entry of controls.json.
type Control struct {
	ID    string   `json:"control"`
	Title string   `json:"title"`
	Files []string `json:"files"`
	Why   string   `json:"why"`
}

// Controls is the control map written to every bundle, in the order the
// verifier reports on them.
func Controls() []Control {
	return []Control{
		{"AU-2", "Event Logging", []string{"sessions/*/events.jsonl", "chunks/"},
			"every intercepted connection is recorded as a session of typed events: open, request, decision, response, close"},
		{"AU-3", "Content of Audit Records", []string{"sessions/*/events.jsonl", "sessions/*/summary.json"},
			"each event says when (time), where (node, workload, target), who (verified identity), what (operation) and the outcome (decision)"},
		{"AU-9", "Protection of Audit Information", []string{ManifestFile, ManifestSig, CheckpointFile, KeyFile},
			"the signed manifest digests every file and the signed checkpoint fixes the Merkle tree head, so a changed, removed or added byte is detected"},
		{"AU-10", "Non-repudiation", []string{"proofs/chunks/", AuditFile, CheckpointFile},
			"each chunk and audit record has an RFC 6962 inclusion proof against a checkpoint signed with the control plane's Ed25519 log key"},
		{"AU-12", "Audit Record Generation", []string{"chunks/", "sessions/*/events.jsonl"},
			"node agents record every session to an fsync'd spool and upload it in numbered chunks; events run from seq 1 without a gap"},
		{"AC-3", "Access Enforcement", []string{"sessions/*/events.jsonl"},
			"decision events name the policy rule that allowed, denied or held each request before it reached Azure"},
		{"AC-5", "Separation of Duties", []string{AuditFile},
			"approval.request and approval.decide records show who asked and who approved; the control plane refuses self-approval"},
		{"AC-6", "Least Privilege", []string{"sessions/*/events.jsonl", AuditFile},
			"operations outside least-privilege policy are recorded as denied; policy.push records show who changed the policy"},
		{"SC-8", "Transmission Confidentiality and Integrity", []string{"chunks/", "sessions/*/events.jsonl"},
			"chunks travel over mTLS and their SHA-256 is checked on arrival; session open events record the intercepted TLS"},
		{"SC-13", "Cryptographic Protection", []string{CheckpointFile, KeyFile, ManifestSig},
			"SHA-256 (FIPS 180-4) Merkle hashing and Ed25519 (FIPS 186-5) signatures"},
	}
}
