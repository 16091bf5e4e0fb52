// SPDX-License-Identifier: Apache-2.0

// Package cli builds the interlock command tree (github.com/spf13/cobra) and
// runs it. cmd/interlock only calls Run; tests call it too, with their own
// arguments and writers.
//
// A command is listed only once the code behind it exists: nothing here
// prints "not implemented".
package cli
