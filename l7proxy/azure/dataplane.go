// SPDX-License-Identifier: Apache-2.0

// What the data planes share: setting a DataAction whose name is a
// constant.

package azure

import "strings"

// setData sets op to the DataAction operation, whose provider is ns and
// whose resource type is typ (operation must be ns/typ/action[/action]).
func setData(op *Operation, ns, typ, operation, name string) {
	op.Provider = ns
	op.ResourceType = typ
	op.Action = strings.TrimSuffix(operation[len(ns)+len(typ)+2:], "/action")
	op.Operation = operation
	op.ResourceName = name
	op.DataAction = true
}
