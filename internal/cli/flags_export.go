// SPDX-License-Identifier: Apache-2.0

// CommandFlags: the flags a command defines, for checks outside this
// package (deploy/'s test holds manifests and units to the binary's flags).

package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// CommandFlags returns the long names (without "--") of every flag that
// the command at path accepts, its own and those it inherits (--log-format,
// --log-level, --help), each mapped to whether the flag takes a value
// (false for a boolean flag such as --detach-on-exit). path names the
// subcommands below the root, e.g. CommandFlags("control", "token"); an
// empty path is the root. It is an error when path names no command.
func CommandFlags(path ...string) (map[string]bool, error) {
	root := newRoot(strings.NewReader(""), io.Discard, io.Discard)
	cmd, rest, err := root.Find(path)
	if err != nil {
		return nil, fmt.Errorf("cli: command %q: %w", strings.Join(path, " "), err)
	}
	if len(rest) > 0 || (len(path) > 0 && cmd == root) {
		return nil, fmt.Errorf("cli: no command %q", strings.Join(path, " "))
	}
	cmd.InitDefaultHelpFlag()
	out := map[string]bool{}
	add := func(f *pflag.Flag) { out[f.Name] = f.NoOptDefVal == "" }
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	return out, nil
}
