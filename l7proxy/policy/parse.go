// SPDX-License-Identifier: Apache-2.0

// Reading one YAML document into a Policy, checking every field.

package policy

import (
	"net/url"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind every document must declare.
const (
	APIVersion = "interlock/v1"
	KindPolicy = "Policy"
)

// nameRE is what names of policies, targets and rules look like.
var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// approverRE is group:NAME or user:NAME.
var approverRE = regexp.MustCompile(`^(group|user):[^\s]+$`)

// Bounds on approval durations.
const (
	maxApprovalTimeout = 7 * 24 * time.Hour
	maxGrant           = 24 * time.Hour
	maxHold            = 5 * time.Minute
)

// policy reads a document node (the mapping under the document).
func (r *reader) policy(n *yaml.Node) *Policy {
	f := r.fields(n, "", "apiVersion", "kind", "metadata", "targets", "identity", "rules", "defaultAction", "masking")
	if f == nil {
		return nil
	}
	p := &Policy{Source: r.pos(n), DefaultAction: Deny}
	if v, ok := f["apiVersion"]; !ok {
		r.errorf(n, "apiVersion", "missing (want %s)", APIVersion)
	} else if s, ok := r.str(v, "apiVersion"); ok && s != APIVersion {
		r.errorf(v, "apiVersion", "%q is not supported (want %s)", s, APIVersion)
	}
	if v, ok := f["kind"]; !ok {
		r.errorf(n, "kind", "missing (want %s)", KindPolicy)
	} else if s, ok := r.str(v, "kind"); ok && s != KindPolicy {
		r.errorf(v, "kind", "%q is not supported (want %s)", s, KindPolicy)
	}
	if v, ok := f["metadata"]; ok {
		r.metadata(v, p)
	} else {
		r.errorf(n, "metadata", "missing (want metadata: {name: ...})")
	}
	if v, ok := f["targets"]; ok {
		for i, t := range r.list(v, "targets") {
			if tg := r.target(t, at("targets", i)); tg != nil {
				tg.Policy = p.Name
				p.Targets = append(p.Targets, tg)
			}
		}
	}
	if v, ok := f["identity"]; ok {
		p.Issuers = r.identity(v, "identity")
	}
	if v, ok := f["rules"]; ok {
		for i, rn := range r.list(v, "rules") {
			if rule := r.rule(rn, at("rules", i)); rule != nil {
				rule.Policy = p.Name
				p.Rules = append(p.Rules, rule)
			}
		}
	}
	if v, ok := f["defaultAction"]; ok {
		if s, ok := r.str(v, "defaultAction"); ok {
			switch Action(s) {
			case Allow, Deny:
				p.DefaultAction = Action(s)
			default:
				r.errorf(v, "defaultAction", "%q: want allow or deny", s)
			}
		}
	}
	if v, ok := f["masking"]; ok {
		if mf := r.fields(v, "masking", "detectors"); mf != nil {
			if d, ok := mf["detectors"]; ok {
				p.Detectors = r.detectors(d, "masking.detectors")
			}
		}
	}
	return p
}

func (r *reader) metadata(n *yaml.Node, p *Policy) {
	f := r.fields(n, "metadata", "name", "description")
	if f == nil {
		return
	}
	if v, ok := f["name"]; !ok {
		r.errorf(n, "metadata.name", "missing")
	} else {
		p.Name, _ = r.name(v, "metadata.name")
	}
	if v, ok := f["description"]; ok {
		p.Description, _ = r.str(v, "metadata.description")
	}
}

// name reads a name of lower-case letters, digits and hyphens.
func (r *reader) name(n *yaml.Node, path string) (string, bool) {
	s, ok := r.str(n, path)
	if !ok {
		return "", false
	}
	if !nameRE.MatchString(s) {
		r.errorf(n, path, "%q: a name is 1-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit", s)
		return "", false
	}
	return s, true
}

func (r *reader) target(n *yaml.Node, path string) *Target {
	f := r.fields(n, path, "name", "protocol", "hosts", "credential", "failMode")
	if f == nil {
		return nil
	}
	t := &Target{Source: r.pos(n), path: path, Credential: Credential{Mode: CredentialPassthrough}}
	ok := true
	if v, has := f["name"]; has {
		t.Name, ok = r.name(v, join(path, "name"))
	} else {
		r.errorf(n, join(path, "name"), "missing")
		ok = false
	}
	if v, has := f["protocol"]; !has {
		r.errorf(n, join(path, "protocol"), "missing (want https or postgres)")
		ok = false
	} else if s, sok := r.str(v, join(path, "protocol")); sok {
		if s != ProtocolHTTPS && s != ProtocolPostgres {
			r.errorf(v, join(path, "protocol"), "%q: want https or postgres", s)
			ok = false
		}
		t.Protocol = s
	}
	if v, has := f["hosts"]; !has {
		r.errorf(n, join(path, "hosts"), "missing (want a list of host names)")
		ok = false
	} else {
		hp := join(path, "hosts")
		items := r.list(v, hp)
		if items != nil && len(items) == 0 {
			r.errorf(v, hp, "must not be empty")
		}
		for i, h := range items {
			s, sok := r.nonEmpty(h, at(hp, i))
			if !sok {
				continue
			}
			pat, err := parseHostPattern(s, t.Protocol)
			if err != nil {
				r.errorf(h, at(hp, i), "%q: %v", s, err)
				continue
			}
			t.Hosts = append(t.Hosts, pat)
		}
	}
	if v, has := f["credential"]; has {
		r.credential(v, join(path, "credential"), t)
	}
	if v, has := f["failMode"]; has {
		if s, sok := r.str(v, join(path, "failMode")); sok {
			switch s {
			case "closed":
			case "open":
				t.FailOpen = true
			default:
				r.errorf(v, join(path, "failMode"), "%q: want closed or open", s)
			}
		}
	}
	if !ok {
		return nil
	}
	return t
}

func (r *reader) credential(n *yaml.Node, path string, t *Target) {
	f := r.fields(n, path, "mode", "azure", "user")
	if f == nil {
		return
	}
	c := &t.Credential
	if v, ok := f["mode"]; !ok {
		r.errorf(n, join(path, "mode"), "missing (want inject or passthrough)")
	} else if s, ok := r.str(v, join(path, "mode")); ok {
		if s != CredentialInject && s != CredentialPassthrough {
			r.errorf(v, join(path, "mode"), "%q: want inject or passthrough", s)
		}
		c.Mode = s
	}
	if v, ok := f["user"]; ok {
		if t.Protocol != ProtocolPostgres {
			r.errorf(v, join(path, "user"), "only postgres targets take a user")
		}
		c.User, _ = r.nonEmpty(v, join(path, "user"))
	}
	v, hasAzure := f["azure"]
	switch {
	case c.Mode == CredentialInject && !hasAzure:
		r.errorf(n, join(path, "azure"), "mode inject needs azure: {type: workloadIdentity|managedIdentity|clientSecret|clientCertificate}")
	case c.Mode == CredentialPassthrough && hasAzure:
		r.errorf(v, join(path, "azure"), "mode passthrough takes no azure credential")
	case hasAzure:
		c.Azure = r.azure(v, join(path, "azure"))
	}
}

func (r *reader) azure(n *yaml.Node, path string) *AzureCredential {
	f := r.fields(n, path, "type", "clientId", "tenantId", "secretFile", "certificateFile")
	if f == nil {
		return nil
	}
	a := &AzureCredential{}
	for key, dst := range map[string]*string{"clientId": &a.ClientID, "tenantId": &a.TenantID, "secretFile": &a.SecretFile, "certificateFile": &a.CertificateFile} {
		if v, ok := f[key]; ok {
			*dst, _ = r.nonEmpty(v, join(path, key))
		}
	}
	v, ok := f["type"]
	if !ok {
		r.errorf(n, join(path, "type"), "missing (want workloadIdentity, managedIdentity, clientSecret or clientCertificate)")
		return a
	}
	a.Type, _ = r.str(v, join(path, "type"))
	need := func(key, val string) {
		if val == "" {
			r.errorf(n, join(path, key), "type %s needs %s", a.Type, key)
		}
	}
	forbid := func(key, val string) {
		if val != "" {
			r.errorf(f[key], join(path, key), "type %s takes no %s", a.Type, key)
		}
	}
	switch a.Type {
	case AzureWorkloadIdentity, AzureManagedIdentity:
		forbid("secretFile", a.SecretFile)
		forbid("certificateFile", a.CertificateFile)
		if a.Type == AzureManagedIdentity {
			forbid("tenantId", a.TenantID)
		}
	case AzureClientSecret:
		need("tenantId", a.TenantID)
		need("clientId", a.ClientID)
		need("secretFile", a.SecretFile)
		forbid("certificateFile", a.CertificateFile)
	case AzureClientCertificate:
		need("tenantId", a.TenantID)
		need("clientId", a.ClientID)
		need("certificateFile", a.CertificateFile)
		forbid("secretFile", a.SecretFile)
	default:
		r.errorf(v, join(path, "type"), "%q: want workloadIdentity, managedIdentity, clientSecret or clientCertificate", a.Type)
	}
	return a
}

func (r *reader) identity(n *yaml.Node, path string) []Issuer {
	f := r.fields(n, path, "issuers")
	if f == nil {
		return nil
	}
	v, ok := f["issuers"]
	if !ok {
		return nil
	}
	var out []Issuer
	ip := join(path, "issuers")
	for i, in := range r.list(v, ip) {
		p := at(ip, i)
		fi := r.fields(in, p, "issuer", "audience", "jwksUrl")
		if fi == nil {
			continue
		}
		var is Issuer
		if v, ok := fi["issuer"]; !ok {
			r.errorf(in, join(p, "issuer"), "missing")
		} else if s, ok := r.nonEmpty(v, join(p, "issuer")); ok {
			if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" {
				r.errorf(v, join(p, "issuer"), "%q: want an https URL", s)
			}
			is.Issuer = s
		}
		if v, ok := fi["audience"]; !ok {
			r.errorf(in, join(p, "audience"), "missing (for ARM tokens: https://management.core.windows.net/)")
		} else {
			is.Audience, _ = r.nonEmpty(v, join(p, "audience"))
		}
		if v, ok := fi["jwksUrl"]; ok {
			if s, ok := r.nonEmpty(v, join(p, "jwksUrl")); ok {
				if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" {
					r.errorf(v, join(p, "jwksUrl"), "%q: want an https URL", s)
				}
				is.JWKSURL = s
			}
		}
		out = append(out, is)
	}
	return out
}

func (r *reader) detectors(n *yaml.Node, path string) []string {
	items := r.list(n, path)
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := r.str(it, at(path, i))
		if !ok {
			continue
		}
		if !contains(knownDetectors, s) {
			r.errorf(it, at(path, i), "unknown detector %q (want one of %v)", s, knownDetectors)
			continue
		}
		if contains(out, s) {
			r.errorf(it, at(path, i), "detector %q listed twice", s)
			continue
		}
		out = append(out, s)
	}
	return out
}

// whenNode is where a rule's condition was written, to place CEL errors.
type whenNode struct {
	node *yaml.Node
	path string
}

func (r *reader) rule(n *yaml.Node, path string) *Rule {
	f := r.fields(n, path, "name", "when", "action", "message", "approval", "mask")
	if f == nil {
		return nil
	}
	rule := &Rule{Source: r.pos(n), path: path}
	ok := true
	if v, has := f["name"]; has {
		rule.Name, ok = r.name(v, join(path, "name"))
	} else {
		r.errorf(n, join(path, "name"), "missing")
		ok = false
	}
	if v, has := f["when"]; has {
		var wok bool
		if rule.When, wok = r.nonEmpty(v, join(path, "when")); wok {
			rule.whenAt = whenNode{node: v, path: join(path, "when")}
		}
		ok = ok && wok
	} else {
		r.errorf(n, join(path, "when"), "missing (a CEL condition; write true to match every request)")
		ok = false
	}
	if v, has := f["action"]; !has {
		r.errorf(n, join(path, "action"), "missing (want allow, approve or deny)")
		ok = false
	} else if s, sok := r.str(v, join(path, "action")); sok {
		switch Action(s) {
		case Allow, Approve, Deny:
			rule.Action = Action(s)
		default:
			r.errorf(v, join(path, "action"), "%q: want allow, approve or deny", s)
			ok = false
		}
	}
	if v, has := f["message"]; has {
		rule.Message, _ = r.str(v, join(path, "message"))
	}
	v, hasApproval := f["approval"]
	switch {
	case hasApproval && rule.Action != Approve && rule.Action != "":
		r.errorf(v, join(path, "approval"), "only approve rules take an approval")
	case hasApproval:
		rule.Approval = r.approval(v, join(path, "approval"))
	case rule.Action == Approve:
		r.errorf(n, join(path, "approval"), "an approve rule needs approval: {approvers: [...]}")
	}
	if v, has := f["mask"]; has {
		mp := join(path, "mask")
		if rule.Action == Deny {
			r.errorf(v, mp, "a deny rule masks nothing: move the mask to an allow or approve rule")
		}
		for i, m := range r.list(v, mp) {
			if mr := r.mask(m, at(mp, i)); mr != nil {
				rule.Masks = append(rule.Masks, mr)
			}
		}
	}
	if !ok {
		return nil
	}
	for _, m := range rule.Masks {
		m.Rule = rule.Name
	}
	return rule
}

func (r *reader) approval(n *yaml.Node, path string) *Approval {
	f := r.fields(n, path, "approvers", "minApprovals", "timeout", "grantFor", "hold")
	if f == nil {
		return nil
	}
	a := &Approval{MinApprovals: 1, Timeout: 10 * time.Minute}
	if v, ok := f["approvers"]; !ok {
		r.errorf(n, join(path, "approvers"), "missing (want a list like [group:sec-oncall, user:alice@example.com])")
	} else {
		ap := join(path, "approvers")
		items := r.list(v, ap)
		if items != nil && len(items) == 0 {
			r.errorf(v, ap, "must not be empty")
		}
		for i, it := range items {
			s, ok := r.str(it, at(ap, i))
			if !ok {
				continue
			}
			if !approverRE.MatchString(s) {
				r.errorf(it, at(ap, i), "%q: want group:NAME or user:NAME", s)
				continue
			}
			a.Approvers = append(a.Approvers, s)
		}
	}
	if v, ok := f["minApprovals"]; ok {
		if m, ok := r.integer(v, join(path, "minApprovals")); ok {
			if m < 1 || m > 100 {
				r.errorf(v, join(path, "minApprovals"), "%d: want 1 to 100", m)
			}
			a.MinApprovals = m
		}
	}
	if v, ok := f["timeout"]; ok {
		a.Timeout, _ = r.duration(v, join(path, "timeout"), time.Second, maxApprovalTimeout)
	}
	if v, ok := f["grantFor"]; ok {
		a.GrantFor, _ = r.duration(v, join(path, "grantFor"), 0, maxGrant)
	}
	if v, ok := f["hold"]; ok {
		if d, ok := r.duration(v, join(path, "hold"), 0, maxHold); ok {
			if a.Timeout > 0 && d > a.Timeout {
				r.errorf(v, join(path, "hold"), "%s is longer than the timeout %s", d, a.Timeout)
			}
			a.Hold = d
		}
	}
	return a
}

func (r *reader) mask(n *yaml.Node, path string) *MaskRule {
	f := r.fields(n, path, "jsonPath", "column", "detectors")
	if f == nil {
		return nil
	}
	m := &MaskRule{}
	if v, ok := f["jsonPath"]; ok {
		if s, ok := r.nonEmpty(v, join(path, "jsonPath")); ok {
			jp, err := ParseJSONPath(s)
			if err != nil {
				r.errorf(v, join(path, "jsonPath"), "%q: %v", s, err)
			}
			m.JSONPath = jp
		}
	}
	if v, ok := f["column"]; ok {
		m.Column, _ = r.nonEmpty(v, join(path, "column"))
		if _, both := f["jsonPath"]; both {
			r.errorf(v, join(path, "column"), "give jsonPath or column, not both")
		}
	}
	if v, ok := f["detectors"]; ok {
		m.Detectors = r.detectors(v, join(path, "detectors"))
	}
	if len(f) == 0 {
		r.errorf(n, path, "a mask needs jsonPath, column or detectors")
		return nil
	}
	return m
}
