// SPDX-License-Identifier: Apache-2.0

// Recorded forms of what every protocol handler knows: the connection's
// workload, the verified identity, and the policy's decision.

package record

import (
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/policy"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Workload is the recorded form of c's workload on node.
func Workload(c *l7proxy.Conn, node string) *interlockv1.Workload {
	w := c.Workload
	kind := interlockv1.Workload_KIND_VM
	if w.Kind == "pod" {
		kind = interlockv1.Workload_KIND_POD
	}
	return &interlockv1.Workload{
		Kind: kind, Name: w.Name, Namespace: w.Namespace, ServiceAccount: w.ServiceAccount, PodUid: w.PodUID,
		Unit: w.Unit, CgroupId: c.Original.CgroupID, CgroupPath: w.CgroupPath,
		Pid: c.Original.PID, Uid: c.Original.UID, Node: node,
	}
}

// Identity is the recorded form of a verified identity; nil for none.
func Identity(id policy.Identity) *interlockv1.Identity {
	if id.Issuer == "" && id.Subject == "" && id.AppID == "" {
		return nil
	}
	return &interlockv1.Identity{
		Issuer: id.Issuer, Subject: id.Subject, AppId: id.AppID, ObjectId: id.ObjectID, TenantId: id.Tenant,
		Groups: id.Groups, Roles: id.Roles,
	}
}

// Action is the recorded form of a policy action.
func Action(a policy.Action) interlockv1.Action {
	switch a {
	case policy.Allow:
		return interlockv1.Action_ACTION_ALLOW
	case policy.Deny:
		return interlockv1.Action_ACTION_DENY
	case policy.Approve:
		return interlockv1.Action_ACTION_APPROVE
	}
	return interlockv1.Action_ACTION_UNSPECIFIED
}

// RuleNames lists the names of rs.
func RuleNames(rs []*policy.Rule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}
