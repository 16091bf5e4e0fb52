// SPDX-License-Identifier: Apache-2.0

// Errors that tell the user how they called a command wrong.

package cli

import "fmt"

// UsageError is a mistake in the command line; main exits with status 2 for it.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, args...)}
}
