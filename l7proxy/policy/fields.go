// SPDX-License-Identifier: Apache-2.0

// The string fields of the CEL variables that the index can key on, and how
// each is normalised.

package policy

import "strings"

// norm is how a field's value is normalised before conditions see it.
type norm uint8

const (
	asIs norm = iota
	lower
	upper
)

func (n norm) apply(s string) string {
	switch n {
	case lower:
		return strings.ToLower(s)
	case upper:
		return strings.ToUpper(s)
	}
	return s
}

// stringField is one string field of a CEL variable.
type stringField struct {
	path string // variable.field as written in CEL
	norm norm
	get  func(*Request) string
}

// stringFields lists every string field. The index keys on these; the
// normalised ones are also rewritten in conditions (see normalize).
var stringFields = []stringField{
	{"identity.issuer", asIs, func(r *Request) string { return r.Identity.Issuer }},
	{"identity.subject", asIs, func(r *Request) string { return r.Identity.Subject }},
	{"identity.appId", asIs, func(r *Request) string { return r.Identity.AppID }},
	{"identity.objectId", asIs, func(r *Request) string { return r.Identity.ObjectID }},
	{"identity.tenant", asIs, func(r *Request) string { return r.Identity.Tenant }},
	{"workload.kind", asIs, func(r *Request) string { return r.Workload.Kind }},
	{"workload.name", asIs, func(r *Request) string { return r.Workload.Name }},
	{"workload.namespace", asIs, func(r *Request) string { return r.Workload.Namespace }},
	{"workload.serviceAccount", asIs, func(r *Request) string { return r.Workload.ServiceAccount }},
	{"workload.unit", asIs, func(r *Request) string { return r.Workload.Unit }},
	{"workload.cgroup", asIs, func(r *Request) string { return r.Workload.Cgroup }},
	{"target.name", asIs, func(r *Request) string { return r.Target.Name }},
	{"target.protocol", lower, func(r *Request) string { return r.Target.Protocol }},
	{"target.host", lower, func(r *Request) string { return r.Target.Host }},
	{"request.protocol", lower, func(r *Request) string { return r.HTTP.Protocol }},
	{"request.method", upper, func(r *Request) string { return r.HTTP.Method }},
	{"request.host", lower, func(r *Request) string { return r.HTTP.Host }},
	{"request.path", asIs, func(r *Request) string { return r.HTTP.Path }},
	{"arm.subscription", lower, func(r *Request) string { return r.ARM.Subscription }},
	{"arm.resourceGroup", lower, func(r *Request) string { return r.ARM.ResourceGroup }},
	{"arm.provider", lower, func(r *Request) string { return r.ARM.Provider }},
	{"arm.resourceType", lower, func(r *Request) string { return r.ARM.ResourceType }},
	{"arm.resourceName", lower, func(r *Request) string { return r.ARM.ResourceName }},
	{"arm.action", lower, func(r *Request) string { return r.ARM.Action }},
	{"arm.apiVersion", asIs, func(r *Request) string { return r.ARM.APIVersion }},
	{"arm.operation", lower, func(r *Request) string { return r.ARM.Operation }},
	{"sql.statementType", upper, func(r *Request) string { return r.SQL.StatementType }},
	{"sql.text", asIs, func(r *Request) string { return r.SQL.Text }},
}

// listFields lists the list(string) fields; the index keys on
// "literal" in field. Their values are not normalised.
var listFields = []struct {
	path string
	get  func(*Request) []string
}{
	{"identity.groups", func(r *Request) []string { return r.Identity.Groups }},
	{"identity.roles", func(r *Request) []string { return r.Identity.Roles }},
	{"sql.tables", func(r *Request) []string { return r.SQL.Tables }},
	{"sql.functions", func(r *Request) []string { return r.SQL.Functions }},
}

// listFieldByPath finds a list field by its CEL path.
func listFieldByPath(path string) (int, bool) {
	for i, f := range listFields {
		if f.path == path {
			return i, true
		}
	}
	return 0, false
}

// fieldByPath finds a string field by its CEL path.
func fieldByPath(path string) (int, bool) {
	for i, f := range stringFields {
		if f.path == path {
			return i, true
		}
	}
	return 0, false
}

// normalize rewrites the normalised fields of r in place. It allocates only
// when a value is not already in normal form.
func normalize(r *Request) {
	r.Target.Protocol = strings.ToLower(r.Target.Protocol)
	r.Target.Host = strings.ToLower(r.Target.Host)
	r.HTTP.Protocol = strings.ToLower(r.HTTP.Protocol)
	r.HTTP.Method = strings.ToUpper(r.HTTP.Method)
	r.HTTP.Host = strings.ToLower(r.HTTP.Host)
	a := &r.ARM
	a.Subscription = strings.ToLower(a.Subscription)
	a.ResourceGroup = strings.ToLower(a.ResourceGroup)
	a.Provider = strings.ToLower(a.Provider)
	a.ResourceType = strings.ToLower(a.ResourceType)
	a.ResourceName = strings.ToLower(a.ResourceName)
	a.Action = strings.ToLower(a.Action)
	a.Operation = strings.ToLower(a.Operation)
	r.SQL.StatementType = strings.ToUpper(r.SQL.StatementType)
}
