// SPDX-License-Identifier: Apache-2.0

// interlock exec: run a command as an intercepted workload.

package cli

import (
	"errors"
	"io"
	"os/exec"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/interlockhq/interlock/nodeagent"
)

// ExitError carries the exit status of a command that interlock ran, so
// that `interlock exec` exits as its command did.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return "command exited with status " + strconv.Itoa(e.Code) }

func newExec(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var (
		name   string
		socket string
		grace  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "exec --workload NAME -- COMMAND [ARG...]",
		Short: "Run a command as an intercepted workload",
		Long: `Run a command in a new cgroup that the running node agent intercepts:
every TCP connection it makes to an intercepted destination goes through
the node's proxy. When the node terminates TLS, SSL_CERT_FILE,
REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, CURL_CA_BUNDLE and PGSSLROOTCERT
point the command at a bundle that includes the node's CA.

The command's exit status becomes interlock's. On Ctrl-C or SIGTERM the
command gets SIGTERM, then SIGKILL after --grace. Whatever it leaves
running in its cgroup is killed when it exits.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usageErrorf("--workload NAME is required")
			}
			if cmd.ArgsLenAtDash() != 0 {
				return usageErrorf("put the command after --: interlock exec --workload %s -- %s", name, args[0])
			}
			c := exec.Command(args[0], args[1:]...)
			c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
			err := nodeagent.Exec(cmd.Context(), nodeagent.NewClient(socket), name, c, grace)
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &ExitError{Code: ee.ExitCode()}
			}
			return err
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after the command are the command's
	cmd.Flags().StringVar(&name, "workload", "", "the workload's name, as policies and recordings show it")
	cmd.Flags().StringVar(&socket, "socket", nodeagent.DefaultSocket, "unix socket of the node agent's local API")
	cmd.Flags().DurationVar(&grace, "grace", 10*time.Second, "time between SIGTERM and SIGKILL when interrupted")
	return cmd
}
