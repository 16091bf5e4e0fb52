// SPDX-License-Identifier: Apache-2.0

// The policy document as loaded: targets, identity issuers, rules, masks.

package policy

import "time"

// Action is what a rule or the policy decides.
type Action string

// Actions, weakest first. Deny wins over approve wins over allow.
const (
	Allow   Action = "allow"
	Approve Action = "approve"
	Deny    Action = "deny"
)

// rank orders actions: the larger one wins.
func (a Action) rank() int {
	switch a {
	case Allow:
		return 1
	case Approve:
		return 2
	case Deny:
		return 3
	}
	return 0
}

// Protocols of targets.
const (
	ProtocolHTTPS    = "https"
	ProtocolPostgres = "postgres"
)

// Document is one policy file as given to Load.
type Document struct {
	// Name says where the document came from (a file name); problems name it.
	Name string
	// YAML holds one or more YAML documents separated by ---.
	YAML []byte
}

// Policy is one `kind: Policy` YAML document.
type Policy struct {
	Name          string
	Description   string
	Targets       []*Target
	Issuers       []Issuer
	Rules         []*Rule
	DefaultAction Action
	Detectors     []string
	// Source locates the document.
	Source Position
}

// Position is where something was written.
type Position struct {
	Document     string
	Line, Column int
}

// Target is a destination whose traffic is intercepted and inspected.
type Target struct {
	Name     string
	Protocol string
	Hosts    []HostPattern
	// Credential says which credential goes upstream.
	Credential Credential
	// FailOpen is true for failMode: open: when the policy cannot be
	// evaluated, traffic passes (and that is recorded). Default false.
	FailOpen bool
	// Policy is the name of the policy that declares the target.
	Policy string
	Source Position
	// path is the field path of the target in its document.
	path string
}

// Credential modes.
const (
	// CredentialPassthrough forwards the agent's own credential.
	CredentialPassthrough = "passthrough"
	// CredentialInject replaces it with the node's credential.
	CredentialInject = "inject"
)

// Azure credential types for CredentialInject.
const (
	AzureWorkloadIdentity  = "workloadIdentity"
	AzureManagedIdentity   = "managedIdentity"
	AzureClientSecret      = "clientSecret"
	AzureClientCertificate = "clientCertificate"
)

// Credential is a target's credential setting.
type Credential struct {
	Mode string
	// Azure is set when Mode is inject.
	Azure *AzureCredential
	// User is the PostgreSQL role to log in as with an injected token.
	User string
}

// AzureCredential says how the node gets a token with azidentity. Secrets
// never appear in a policy: SecretFile and CertificateFile name files on
// the node.
type AzureCredential struct {
	Type            string
	ClientID        string
	TenantID        string
	SecretFile      string
	CertificateFile string
}

// Issuer is a trusted OIDC token issuer.
type Issuer struct {
	// Issuer is the exact iss claim, e.g. https://sts.windows.net/{tid}/.
	Issuer string
	// Audience is the aud claim required, e.g.
	// https://management.core.windows.net/.
	Audience string
	// JWKSURL, when set, is where the signing keys are; otherwise they are
	// discovered from the issuer.
	JWKSURL string
}

// Rule is one rule of a policy.
type Rule struct {
	Name string
	// When is the CEL condition as written.
	When     string
	Action   Action
	Message  string
	Approval *Approval
	Masks    []*MaskRule
	// Policy is the name of the policy that holds the rule.
	Policy string
	Source Position
	// path is the field path of the rule in its document.
	path string

	// whenAt locates When, for compile errors.
	whenAt whenNode
	// Set by the compiler.
	cond *condition
	// index is the rule's position in the bundle: evaluation order.
	index int
}

// Approval says who must approve a rule's requests and for how long.
type Approval struct {
	// Approvers are "group:NAME" or "user:NAME".
	Approvers    []string
	MinApprovals int
	// Timeout is how long a request waits for a decision before it is
	// denied.
	Timeout time.Duration
	// GrantFor is how long an approval lets the same identity repeat the
	// same request; 0 means once.
	GrantFor time.Duration
	// Hold is how long the proxy holds the request open waiting; after it
	// the agent gets a retryable error and the approval stays pending until
	// Timeout.
	Hold time.Duration
}

// MaskRule says what to mask in a response.
type MaskRule struct {
	// JSONPath selects values in JSON bodies (HTTPS).
	JSONPath *JSONPath
	// Column selects a result column by name (PostgreSQL).
	Column string
	// Detectors limit masking to what these detectors find inside the
	// selected values; with neither JSONPath nor Column, they scan the
	// whole response.
	Detectors []string
	// Rule is the name of the rule that holds the mask.
	Rule string
}

// Detectors is the list of known secret detectors, in a fixed order.
var knownDetectors = []string{
	"azure-storage-key", "azure-sas", "azure-connection-string",
	"entra-client-secret", "jwt", "private-key", "email", "credit-card", "iban",
}

// KnownDetectors returns the names a policy may use in detectors.
func KnownDetectors() []string {
	return append([]string(nil), knownDetectors...)
}
