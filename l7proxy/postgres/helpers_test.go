// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"os"
	"syscall"
)

var (
	readFile        = os.ReadFile
	interruptSignal = syscall.SIGINT
)
