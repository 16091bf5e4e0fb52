// SPDX-License-Identifier: Apache-2.0

// Command interlock is Interlock's one binary: node agent, control plane,
// all-in-one, and the CLI for people. Run `interlock --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/interlockhq/interlock/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var exit *cli.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.Code) // the command ran and said why itself
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "interlock:", err)
		var usage *cli.UsageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
