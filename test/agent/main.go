// SPDX-License-Identifier: Apache-2.0

// Entry point: parse the steps, run them in order, print one line each.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
}

// errStepsFailed reports that at least one step failed; each failure has
// been printed already.
var errStepsFailed = errors.New("some steps failed")

// run parses args into steps and runs them all, printing a line per step.
func run(ctx context.Context, stdout io.Writer, args []string) error {
	calls, err := parseSteps(args)
	if err != nil {
		return err
	}
	a, err := newAgent()
	if err != nil {
		return err
	}
	failed := false
	for _, c := range calls {
		res, err := c.step.run(ctx, a, c.args)
		if err != nil {
			failed = true
		}
		if werr := writeLine(stdout, c, res, err); werr != nil {
			return werr
		}
	}
	if failed {
		return errStepsFailed
	}
	return nil
}
