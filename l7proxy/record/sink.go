// SPDX-License-Identifier: Apache-2.0

// The Sink interface: where a Recorder's events go.

package record

import (
	"context"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Sink makes events durable. nodeagent/spool implements it.
//
// Append returns nil only once every event of evs is durable (on disk,
// fsync'd), in the order given, after the events of every Append that
// returned before it was called. On an error the events may or may not have
// been kept. Append must be safe for concurrent use; it may keep evs.
type Sink interface {
	Append(ctx context.Context, evs []*interlockv1.SessionEvent) error
}
