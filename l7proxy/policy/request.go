// SPDX-License-Identifier: Apache-2.0

// The Request a protocol handler fills for one decision, and the CEL
// variables it becomes.

package policy

import "time"

// Request describes one intercepted request: who sent it, from which
// workload, to which target, and what it asks for. Protocol handlers fill
// it; Evaluate reads it and never keeps or modifies it.
//
// Each field is one CEL variable of the same name (the `cel` tags name the
// fields there). Fields that do not apply stay zero: an HTTPS request has an
// empty SQL, a PostgreSQL query an empty HTTP and ARM.
type Request struct {
	Identity Identity   `cel:"identity" json:"identity" yaml:"identity"`
	Workload Workload   `cel:"workload" json:"workload" yaml:"workload"`
	Target   TargetInfo `cel:"target" json:"target" yaml:"target"`
	HTTP     HTTP       `cel:"request" json:"request" yaml:"request"`
	ARM      ARM        `cel:"arm" json:"arm" yaml:"arm"`
	SQL      SQL        `cel:"sql" json:"sql" yaml:"sql"`
	// Now is the time conditions see as `now`; zero means the time of the
	// call to Evaluate.
	Now time.Time `cel:"now" json:"now" yaml:"now"`
}

// Identity is the caller as proven by its verified bearer token (CEL
// variable identity, type policy.Identity).
type Identity struct {
	Issuer   string   `cel:"issuer" json:"issuer,omitempty" yaml:"issuer,omitempty"`
	Subject  string   `cel:"subject" json:"subject,omitempty" yaml:"subject,omitempty"`
	AppID    string   `cel:"appId" json:"appId,omitempty" yaml:"appId,omitempty"`
	ObjectID string   `cel:"objectId" json:"objectId,omitempty" yaml:"objectId,omitempty"`
	Tenant   string   `cel:"tenant" json:"tenant,omitempty" yaml:"tenant,omitempty"`
	Groups   []string `cel:"groups" json:"groups,omitempty" yaml:"groups,omitempty"`
	Roles    []string `cel:"roles" json:"roles,omitempty" yaml:"roles,omitempty"`
	// Claims holds every claim of the token (JSON values: string, float64,
	// bool, []any, map[string]any).
	Claims map[string]any `cel:"claims" json:"claims,omitempty" yaml:"claims,omitempty"`
}

// Workload is the process that opened the connection, as the kernel reports
// it (CEL variable workload, type policy.Workload).
type Workload struct {
	// Kind is "vm" (a systemd unit or process on a VM) or "pod".
	Kind           string `cel:"kind" json:"kind,omitempty" yaml:"kind,omitempty"`
	Name           string `cel:"name" json:"name,omitempty" yaml:"name,omitempty"`
	Namespace      string `cel:"namespace" json:"namespace,omitempty" yaml:"namespace,omitempty"`
	ServiceAccount string `cel:"serviceAccount" json:"serviceAccount,omitempty" yaml:"serviceAccount,omitempty"`
	Unit           string `cel:"unit" json:"unit,omitempty" yaml:"unit,omitempty"`
	// Cgroup is the cgroup v2 path, e.g. /system.slice/agent.service.
	Cgroup string `cel:"cgroup" json:"cgroup,omitempty" yaml:"cgroup,omitempty"`
	PID    int64  `cel:"pid" json:"pid,omitempty" yaml:"pid,omitempty"`
	UID    int64  `cel:"uid" json:"uid,omitempty" yaml:"uid,omitempty"`
}

// TargetInfo is the policy target the connection was routed to (CEL
// variable target, type policy.TargetInfo).
type TargetInfo struct {
	// Name is the target's name in the policy.
	Name string `cel:"name" json:"name,omitempty" yaml:"name,omitempty"`
	// Protocol is "https" or "postgres".
	Protocol string `cel:"protocol" json:"protocol,omitempty" yaml:"protocol,omitempty"`
	// Host is the name the client asked for (SNI or Host), Port its port.
	Host string `cel:"host" json:"host,omitempty" yaml:"host,omitempty"`
	Port int64  `cel:"port" json:"port,omitempty" yaml:"port,omitempty"`
}

// HTTP is the request line and headers of an HTTPS request (CEL variable
// request, type policy.HTTP). For PostgreSQL only Protocol is set.
type HTTP struct {
	Protocol string `cel:"protocol" json:"protocol,omitempty" yaml:"protocol,omitempty"`
	// Method is compared upper-case (see the package documentation).
	Method string `cel:"method" json:"method,omitempty" yaml:"method,omitempty"`
	// Host is compared lower-case.
	Host string `cel:"host" json:"host,omitempty" yaml:"host,omitempty"`
	Path string `cel:"path" json:"path,omitempty" yaml:"path,omitempty"`
	// Query holds the first value of each query parameter.
	Query map[string]string `cel:"query" json:"query,omitempty" yaml:"query,omitempty"`
	// Headers holds the headers with lower-case names; repeated headers are
	// joined with ", ".
	Headers map[string]string `cel:"headers" json:"headers,omitempty" yaml:"headers,omitempty"`
}

// ARM is the Azure Resource Manager operation a request performs (CEL
// variable arm, type policy.ARM). All its fields but APIVersion are
// compared case-insensitively (see the package documentation).
type ARM struct {
	Subscription  string `cel:"subscription" json:"subscription,omitempty" yaml:"subscription,omitempty"`
	ResourceGroup string `cel:"resourceGroup" json:"resourceGroup,omitempty" yaml:"resourceGroup,omitempty"`
	// Provider is the resource provider namespace, e.g. Microsoft.Storage.
	Provider string `cel:"provider" json:"provider,omitempty" yaml:"provider,omitempty"`
	// ResourceType is the type below the provider, e.g. storageAccounts.
	ResourceType string `cel:"resourceType" json:"resourceType,omitempty" yaml:"resourceType,omitempty"`
	ResourceName string `cel:"resourceName" json:"resourceName,omitempty" yaml:"resourceName,omitempty"`
	// Action is read, write, delete or the name of a POST action (listKeys).
	Action     string `cel:"action" json:"action,omitempty" yaml:"action,omitempty"`
	APIVersion string `cel:"apiVersion" json:"apiVersion,omitempty" yaml:"apiVersion,omitempty"`
	// Operation is the Azure RBAC action string, e.g.
	// Microsoft.Storage/storageAccounts/listKeys/action.
	Operation string `cel:"operation" json:"operation,omitempty" yaml:"operation,omitempty"`
}

// SQL is the classified PostgreSQL statement (CEL variable sql, type
// policy.SQL).
type SQL struct {
	// StatementType is the SQL command, e.g. SELECT, DROP; compared
	// upper-case.
	StatementType string   `cel:"statementType" json:"statementType,omitempty" yaml:"statementType,omitempty"`
	Tables        []string `cel:"tables" json:"tables,omitempty" yaml:"tables,omitempty"`
	Functions     []string `cel:"functions" json:"functions,omitempty" yaml:"functions,omitempty"`
	HasWhere      bool     `cel:"hasWhere" json:"hasWhere,omitempty" yaml:"hasWhere,omitempty"`
	Text          string   `cel:"text" json:"text,omitempty" yaml:"text,omitempty"`
}
