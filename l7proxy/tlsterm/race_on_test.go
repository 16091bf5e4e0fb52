// SPDX-License-Identifier: Apache-2.0

//go:build race

// Whether the race detector is on: it adds allocations of its own.

package tlsterm

const raceEnabled = true
