// SPDX-License-Identifier: Apache-2.0

//go:build !race

// Whether the race detector is on: sync.Pool then drops items at random.

package policy

const raceEnabled = false
