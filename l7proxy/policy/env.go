// SPDX-License-Identifier: Apache-2.0

// The CEL environment: the typed variables every condition may use.

package policy

import (
	"fmt"
	"reflect"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
)

// CEL type names of the variables (the Go types of Request, registered as
// native types).
const (
	typeIdentity = "policy.Identity"
	typeWorkload = "policy.Workload"
	typeTarget   = "policy.TargetInfo"
	typeHTTP     = "policy.HTTP"
	typeARM      = "policy.ARM"
	typeSQL      = "policy.SQL"
)

// Limits on what one condition may be, so that a hostile bundle cannot make
// the loader or the evaluator spin.
const (
	maxExprSize      = 4096 // code points per condition
	maxExprRecursion = 64   // parser nesting depth
	maxRegexProgram  = 500  // RE2 program size per regular expression
)

// newEnv builds the environment conditions compile in. Every variable has
// its real type, so a misspelt field (arm.opration) fails to compile.
func newEnv() (*cel.Env, error) {
	env, err := cel.NewEnv(
		ext.NativeTypes(
			reflect.TypeFor[Identity](),
			reflect.TypeFor[Workload](),
			reflect.TypeFor[TargetInfo](),
			reflect.TypeFor[HTTP](),
			reflect.TypeFor[ARM](),
			reflect.TypeFor[SQL](),
			ext.ParseStructTags(true),
		),
		cel.Variable("identity", cel.ObjectType(typeIdentity)),
		cel.Variable("workload", cel.ObjectType(typeWorkload)),
		cel.Variable("target", cel.ObjectType(typeTarget)),
		cel.Variable("request", cel.ObjectType(typeHTTP)),
		cel.Variable("arm", cel.ObjectType(typeARM)),
		cel.Variable("sql", cel.ObjectType(typeSQL)),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
		cel.ParserExpressionSizeLimit(maxExprSize),
		cel.ParserRecursionLimit(maxExprRecursion),
		cel.RegexProgramSizeLimit(maxRegexProgram),
	)
	if err != nil {
		return nil, fmt.Errorf("cel environment: %w", err)
	}
	return env, nil
}
