// SPDX-License-Identifier: Apache-2.0

// interlock policy push|get|diff: the control plane's policy bundle.

package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/status"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func newPolicyPush(stdout io.Writer) *cobra.Command {
	f := &clientFlags{}
	var expected uint64
	var comment string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "push FILE...",
		Short: "Make the files the control plane's new policy bundle",
		Long: `Push sends the files, as one bundle, to the control plane, which validates
them and, when they are valid, makes them the next version that every node
enforces. Each document is named by the path given. --expected-version makes
the push fail unless the current version is that one (no lost updates
between two admins). Problems are printed as FILE:LINE:COLUMN: FIELD: MESSAGE.
Role: admin.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			docs, err := readPolicyFiles(files)
			if err != nil {
				return err
			}
			req := &interlockv1.PushPolicyRequest{ExpectedVersion: expected, Comment: comment, DryRun: dryRun}
			for _, d := range docs {
				req.Documents = append(req.Documents, &interlockv1.PolicyDocument{Name: d.Name, Yaml: d.YAML})
			}
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			ctx, cancel := f.callCtx(cmd.Context())
			defer cancel()
			resp, err := interlockv1.NewPolicyServiceClient(cc).Push(ctx, req)
			if err != nil {
				printProblems(stdout, err)
				return f.callError("policy push", err)
			}
			b := resp.GetBundle()
			if f.output != "table" {
				return printBundle(stdout, f.output, b, false)
			}
			verb := "pushed"
			if dryRun {
				verb = "valid; would be"
			}
			_, err = fmt.Fprintf(stdout, "%s version %d (%d documents, sha256 %s)\n", verb, b.GetVersion(), len(b.GetDocuments()), hex.EncodeToString(b.GetSha256())[:12])
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().Uint64Var(&expected, "expected-version", 0, "fail unless the current version is this one (0: any)")
	cmd.Flags().StringVar(&comment, "comment", "", "why, kept with the bundle")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only")
	return cmd
}

// printProblems prints the PolicyProblems of a refused push.
func printProblems(w io.Writer, err error) {
	st, ok := status.FromError(err)
	if !ok {
		return
	}
	for _, d := range st.Details() {
		ps, ok := d.(*interlockv1.PolicyProblems)
		if !ok {
			continue
		}
		for _, p := range ps.GetProblems() {
			loc := p.GetDocument()
			if p.GetLine() > 0 {
				loc = fmt.Sprintf("%s:%d:%d", loc, p.GetLine(), p.GetColumn())
			}
			if p.GetField() != "" {
				loc += ": " + p.GetField()
			}
			fmt.Fprintf(w, "%s: %s\n", loc, p.GetMessage())
		}
	}
}

func newPolicyGet(stdout io.Writer) *cobra.Command {
	f := &clientFlags{}
	var version uint64
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Print the current policy bundle, or one version of it",
		Long: `Get prints the control plane's current bundle (or --version N): with
-o table its version and documents as YAML, each under a "# FILE" line;
with -o json or -o yaml the bundle with its documents as text. Roles:
admin, auditor.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := fetchBundle(cmd, f, version)
			if err != nil {
				return err
			}
			return printBundle(stdout, f.output, b, true)
		},
	}
	f.add(cmd)
	cmd.Flags().Uint64Var(&version, "version", 0, "the version to get (0: the current one)")
	return cmd
}

func fetchBundle(cmd *cobra.Command, f *clientFlags, version uint64) (*interlockv1.PolicyBundle, error) {
	cc, err := f.dial()
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	ctx, cancel := f.callCtx(cmd.Context())
	defer cancel()
	b, err := interlockv1.NewPolicyServiceClient(cc).Get(ctx, &interlockv1.GetPolicyRequest{Version: version})
	if err != nil {
		return nil, f.callError("policy get", err)
	}
	return b, nil
}

// bundleView is a bundle for JSON and YAML: documents as text.
type bundleView struct {
	Version   uint64    `json:"version" yaml:"version"`
	SHA256    string    `json:"sha256" yaml:"sha256"`
	Created   string    `json:"created,omitempty" yaml:"created,omitempty"`
	CreatedBy string    `json:"created_by,omitempty" yaml:"created_by,omitempty"`
	Comment   string    `json:"comment,omitempty" yaml:"comment,omitempty"`
	Documents []docView `json:"documents" yaml:"documents"`
}

type docView struct {
	Name string `json:"name" yaml:"name"`
	YAML string `json:"yaml,omitempty" yaml:"yaml,omitempty"`
}

// printBundle prints b; withYAML includes the documents' text.
func printBundle(w io.Writer, format string, b *interlockv1.PolicyBundle, withYAML bool) error {
	v := bundleView{Version: b.GetVersion(), SHA256: hex.EncodeToString(b.GetSha256()), CreatedBy: b.GetCreatedBy(), Comment: b.GetComment()}
	if b.GetCreated() != nil {
		v.Created = b.GetCreated().AsTime().UTC().Format("2006-01-02T15:04:05Z")
	}
	for _, d := range b.GetDocuments() {
		dv := docView{Name: d.GetName()}
		if withYAML {
			dv.YAML = string(d.GetYaml())
		}
		v.Documents = append(v.Documents, dv)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		out, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	fmt.Fprintf(w, "# version %d, sha256 %s, created %s by %s", v.Version, v.SHA256, orDash(v.Created), orDash(v.CreatedBy))
	if v.Comment != "" {
		fmt.Fprintf(w, ": %s", v.Comment)
	}
	fmt.Fprintln(w)
	for i, d := range b.GetDocuments() {
		if i > 0 {
			fmt.Fprintln(w, "---")
		}
		fmt.Fprintf(w, "# %s\n", d.GetName())
		y := d.GetYaml()
		w.Write(y)
		if len(y) > 0 && y[len(y)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
	return nil
}

func newPolicyDiff(stdout io.Writer) *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "diff FILE...",
		Short: "Show how the files differ from the current policy bundle",
		Long: `Diff prints a unified diff from the current bundle's documents to the
files: a document and a file correspond when the file's path is the
document's name, or else when their base names are equal. Documents
without a file show as removed, files without a document as added. It
exits with status 1 when they differ, 0 when they do not. Roles: admin,
auditor.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			docs, err := readPolicyFiles(files)
			if err != nil {
				return err
			}
			b, err := fetchBundle(cmd, f, 0)
			if err != nil {
				return err
			}
			differ := false
			used := make([]bool, len(b.GetDocuments()))
			match := func(name string) int {
				for i, d := range b.GetDocuments() {
					if !used[i] && d.GetName() == name {
						return i
					}
				}
				for i, d := range b.GetDocuments() {
					if !used[i] && filepath.Base(d.GetName()) == filepath.Base(name) {
						return i
					}
				}
				return -1
			}
			for _, d := range docs {
				old, oldName := []byte(nil), "/dev/null"
				if i := match(d.Name); i >= 0 {
					used[i] = true
					old, oldName = b.GetDocuments()[i].GetYaml(), "a/"+b.GetDocuments()[i].GetName()
				}
				if unifiedDiff(stdout, oldName, "b/"+d.Name, old, d.YAML) {
					differ = true
				}
			}
			for i, d := range b.GetDocuments() {
				if !used[i] && unifiedDiff(stdout, "a/"+d.GetName(), "/dev/null", d.GetYaml(), nil) {
					differ = true
				}
			}
			if differ {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}
