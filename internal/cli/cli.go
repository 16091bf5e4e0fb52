// SPDX-License-Identifier: Apache-2.0

// The root command and Run.

package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// globals are the flags every command has.
type globals struct {
	logFormat string
	logLevel  string
	// log is built from the flags before any command runs.
	log *slog.Logger
}

// Run executes the command line args (without the program name) with the
// given streams. It returns the command's error for main to print; an
// *ExitError asks main to exit with its code, a *UsageError with 2.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "interlock",
		Short: "Policy-enforcing, recording gateway between AI agents and Azure",
		Long: `Interlock puts a policy-enforcing, recording gateway into the data path
between unmodified AI agents and Azure (Resource Manager, data-plane HTTPS
APIs, PostgreSQL), using eBPF to intercept their connections.`,
		SilenceUsage:  true,
		SilenceErrors: true, // main prints the error once
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			// The demo's output is for reading: its components log
			// warnings and errors only, unless asked otherwise.
			if demo, _ := cmd.Flags().GetBool("demo"); demo && !cmd.Flags().Changed("log-level") {
				g.logLevel = "warn"
			}
			var err error
			g.log, err = g.logger(stderr)
			return err
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(
		newVersion(stdout),
		newNode(g, stdout),
		newExec(stdin, stdout, stderr),
		newUp(g, stdout),
		newControl(g, stdout),
		newApprovals(stdout),
		newSessions(stdout),
		newAudit(stdout, stderr),
		newPolicy(stdout),
	)
	return root
}

// logger builds the slog.Logger the flags ask for.
func (g *globals) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usageErrorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usageErrorf("--log-format %q: want text or json", g.logFormat)
	}
}
