// SPDX-License-Identifier: Apache-2.0

// Package policy is Interlock's policy language: YAML documents whose rules
// have CEL conditions (cel.dev/cel-go), loaded into an immutable Bundle that
// the protocol handlers ask for a Decision per request, and that the proxy
// asks which connections to inspect (Bundle.Target).
//
// # Documents
//
// A file holds one or more YAML documents separated by ---; Load takes
// several files and makes one bundle of them, in the order given. Every
// field is checked; unknown fields, YAML anchors and aliases are errors.
// Problems name the file, line, column and field path (rules[3].when), and
// a condition that does not compile is placed at the line and column inside
// the file. Limits: DefaultMaxDocumentSize bytes per file, DefaultMaxRules
// rules per bundle, 4096 code points per condition.
//
//	apiVersion: interlock/v1        # required
//	kind: Policy                    # required
//	metadata: {name: prod-agents, description: ...}   # name: [a-z0-9-], unique in the bundle
//	targets:                        # what is intercepted and inspected
//	  - name: arm                   # unique in the bundle
//	    protocol: https             # https | postgres
//	    hosts: [management.azure.com, "*.vault.azure.net", "db.example.com:6432"]
//	    credential: {mode: inject, azure: {type: workloadIdentity}}   # default {mode: passthrough}
//	    failMode: closed            # closed (default) | open
//	identity:
//	  issuers:                      # trusted token issuers
//	    - {issuer: "https://sts.windows.net/TENANT/", audience: "https://management.core.windows.net/", jwksUrl: ...}
//	rules:
//	  - name: key-rotation          # unique in the bundle
//	    when: arm.operation.endsWith("/regenerateKey/action")   # CEL, must be bool
//	    action: approve             # allow | approve | deny
//	    message: ...                # optional, shown to the agent
//	    approval: {approvers: ["group:sec-oncall", "user:alice@example.com"], minApprovals: 1, timeout: 10m, grantFor: 15m, hold: 30s}
//	    mask: [{jsonPath: "$.keys[*].value"}, {column: email}, {detectors: [jwt]}]
//	defaultAction: deny             # allow | deny; default deny
//	masking: {detectors: [azure-storage-key, jwt]}
//
// Hosts are exact names or *.suffix, which matches one or more labels in
// front of the suffix but not the suffix itself; a host without :port means
// port 443 for https and 5432 for postgres. Bundle.Target prefers an exact
// host to a wildcard, and the longest wildcard suffix to a shorter one. A
// host:port may belong to one target only. When the host belongs to a
// target of another protocol, Target returns ErrProtocolMismatch: refuse the
// connection, never pass it through.
//
// Credentials: mode passthrough forwards the agent's own token; mode inject
// needs azure.type workloadIdentity, managedIdentity (optional clientId),
// clientSecret (tenantId, clientId, secretFile) or clientCertificate
// (tenantId, clientId, certificateFile); postgres targets may name the user
// to log in as. Secrets are never written in a policy, only paths on the
// node.
//
// Issuers: ARM, Key Vault and Storage take v1.0 tokens, whose issuer is
// https://sts.windows.net/{tenant}/ and whose audience is the resource
// (https://management.core.windows.net/, https://vault.azure.net); give
// jwksUrl for issuers whose discovery document is not under the issuer URL.
//
// Approvals: approvers are group:NAME or user:NAME; minApprovals 1 to 100
// (default 1); timeout 1s to 168h (default 10m); grantFor 0 to 24h (0: the
// approval covers one request); hold 0 to 5m and at most the timeout.
// Approvals are only allowed on approve rules, which require them.
//
// Masks: jsonPath (the subset $, .name, ['name'], [n], [*], .*, ..name, ..*)
// selects values in JSON bodies; column selects a PostgreSQL result column;
// detectors (see KnownDetectors) restrict masking to what they find, or,
// alone, scan the whole response. Deny rules take no masks.
//
// # Conditions
//
// Conditions are CEL with the standard library, the strings extension and
// these typed variables (misspelt fields are compile errors):
//
//	identity  policy.Identity   issuer, subject, appId, objectId, tenant: string;
//	                            groups, roles: list(string); claims: map(string, dyn)
//	workload  policy.Workload   kind ("vm"|"pod"), name, namespace, serviceAccount,
//	                            unit, cgroup: string; pid, uid: int
//	target    policy.TargetInfo name, protocol, host: string; port: int
//	request   policy.HTTP       protocol, method, host, path: string;
//	                            query, headers: map(string, string) (header names lower-case)
//	arm       policy.ARM        subscription, resourceGroup, provider, resourceType,
//	                            resourceName, action, apiVersion, operation: string
//	sql       policy.SQL        statementType, text: string; tables, functions: list(string);
//	                            hasWhere: bool
//	now       timestamp         Request.Now, or the time of evaluation when zero
//
// arm.operation has the form of Azure RBAC actions, e.g.
// Microsoft.Storage/storageAccounts/listKeys/action.
//
// Case: ARM paths come in varying case (resourcegroups, resourceGroups), so
// the engine lower-cases arm.subscription, resourceGroup, provider,
// resourceType, resourceName, action and operation, target.host,
// target.protocol, request.host and request.protocol, and upper-cases
// request.method and sql.statementType, in its own copy of the request. At
// load time it rewrites the string literals that a condition compares
// directly with one of these fields (==, !=, in [...], startsWith,
// endsWith, contains) into the same form. So arm.operation ==
// "Microsoft.Resources/subscriptions/resourceGroups/delete" matches any
// case; but a condition that uses these fields otherwise (matches(), a
// comprehension, a concatenation) sees the normalised values and must be
// written for them. policy test shows conditions as written.
//
// Errors at run time: a condition that fails (a missing map key such as
// request.headers["x"] when the header is absent, a cost limit exceeded, a
// cancelled context) makes the whole evaluation fail: Evaluate returns an
// *EvalError and a Decision that denies with a message saying so, and the
// caller must refuse the request (fail closed; a target's failMode: open is
// the caller's to apply, and to record). Guard optional keys with
// `"x" in request.headers && ...`: && and || absorb an error when the other
// side decides.
//
// Cost: conditions with a comprehension (all, exists, exists_one, map,
// filter) run under Options.CostLimit (cel.CostLimit). Others have no loops
// and run in time linear in their size and the request's, without the
// runtime cost tracker (which costs more than such a condition). The
// context is checked before each rule is evaluated.
//
// # Decisions
//
// Every rule is a candidate for every request; rules that name no target
// apply to all targets (compare target.name to scope a rule). The decision
// is deny if any matching rule denies, else approve if any approves, else
// allow if any allows, else the bundle's defaultAction (the strictest of
// its documents': deny unless all say allow). The deciding rule is the
// first matching rule of the winning action in bundle order (files in the
// order given, rules in the order written); an approve decision carries its
// approval parameters. Decision.Matched lists every matching rule;
// Decision.Masks accumulates the masks of every matching allow and approve
// rule when the decision is allow or approve; Decision.Detectors are the
// bundle's masking.detectors.
//
// # The index
//
// Evaluating 100 CEL programs per request is too slow, so Load indexes the
// rules. It splits each condition into its top-level conjuncts (operands of
// &&) and recognises, per field, one conjunct of the forms
//
//	field == "lit"   "lit" == field   field in ["a", "b"]
//	field.startsWith("lit")   field.endsWith("lit")   "lit" in listField
//
// on the string fields of the variables (arm.operation, request.method,
// sql.statementType, target.name, ...) and the lists identity.groups,
// identity.roles, sql.tables and sql.functions. Per request the index looks
// up the request's value of each indexed field (an equality map, and one
// map per distinct prefix and suffix length) and leaves out every rule one
// of whose recognised conjuncts is false. A rule whose conjuncts are all
// recognised matches without running CEL. Rules without such a conjunct
// are always candidates.
//
// Guarantee: the decision, deciding rule, matched rules, masks and errors
// are exactly those of evaluating every rule in order. A recognised
// conjunct compares a typed field with literals and cannot fail, and CEL's
// && is false whenever one operand is false, even if another fails; so a
// rule the index leaves out cannot match or fail. Tests hold the index to a
// reference evaluator over generated rules and requests, and a fuzz target
// does too.
//
// # Sharp edges
//
//   - Bundle is immutable and safe for concurrent use; do not modify the
//     Policies, Rules or Targets it returns.
//   - Evaluate never keeps or modifies the Request. EvaluateInto reuses the
//     Decision's slices: they are valid until the next call with it.
//   - Explain is for people: it compiles each conjunct on first use and
//     evaluates every rule.
package policy
