// SPDX-License-Identifier: Apache-2.0

// interlock policy validate: check policy files offline.

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

func newPolicy(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check, try out, push and compare policies",
	}
	cmd.AddCommand(newPolicyValidate(stdout), newPolicyTest(stdout), newPolicyPush(stdout), newPolicyGet(stdout), newPolicyDiff(stdout))
	return cmd
}

func newPolicyValidate(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate policy files as one bundle",
		Long: `Validate loads the files as one bundle, as the control plane does on push,
and prints "FILE: ok" for each good file, or each problem as
FILE:LINE:COLUMN: FIELD: MESSAGE. It exits with status 1 when there is a
problem.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			docs, err := readPolicyFiles(files)
			if err != nil {
				return err
			}
			_, err = policy.Load(docs, policy.Options{})
			var problems policy.Problems
			if err != nil && !errors.As(err, &problems) {
				return err
			}
			byFile := map[string][]policy.Problem{}
			for _, p := range problems {
				byFile[p.Document] = append(byFile[p.Document], p)
			}
			for _, f := range files {
				if len(byFile[f]) == 0 {
					fmt.Fprintf(stdout, "%s: ok\n", f)
				}
				for _, p := range byFile[f] {
					fmt.Fprintln(stdout, p)
				}
			}
			for _, p := range byFile[""] {
				p.Document = "bundle"
				fmt.Fprintln(stdout, p)
			}
			if len(problems) > 0 {
				return fmt.Errorf("policy validate: %d problem(s)", len(problems))
			}
			return nil
		},
	}
}

// readPolicyFiles reads each file into a Document named by its path.
func readPolicyFiles(files []string) ([]policy.Document, error) {
	docs := make([]policy.Document, 0, len(files))
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("read policy: %w", err)
		}
		if st.Size() > policy.DefaultMaxDocumentSize {
			return nil, fmt.Errorf("read policy %s: %d bytes, more than the limit of %d", f, st.Size(), policy.DefaultMaxDocumentSize)
		}
		y, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read policy: %w", err)
		}
		docs = append(docs, policy.Document{Name: f, YAML: y})
	}
	return docs, nil
}
