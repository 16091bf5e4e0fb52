// SPDX-License-Identifier: Apache-2.0

// Options of a Spool and their defaults.

package spool

import (
	"log/slog"
	"time"
)

// Options tune a Spool. Zero fields take the defaults below.
type Options struct {
	// ChunkEvents seals a chunk once it holds this many events
	// (default 256).
	ChunkEvents int
	// ChunkBytes seals a chunk once its uncompressed events reach this
	// many bytes (default 1 MiB), keeping chunks well under gRPC's 4 MiB
	// message limit.
	ChunkBytes int
	// ChunkDelay seals a chunk this long after its first event was
	// appended, however few events it has (default 200 ms).
	ChunkDelay time.Duration
	// CommitDelay is how long the writer waits for more Appends before a
	// group commit (default 0: it takes what queued during the last
	// fsync, which already batches concurrent writers).
	CommitDelay time.Duration
	// SyncInterval chooses what a returned Append promises. Zero (the
	// default): the events are fsync'd, and survive even a power loss.
	// Above zero: they are written to the segment file, so they survive
	// the process crashing or being killed (the kernel holds them), and
	// they are fsync'd within SyncInterval, in the background; a power
	// loss can lose at most that much. Chunks are offered for upload only
	// once fsync'd, in both modes. The proxies' hot path is why the node
	// sets it: an fsync per request costs more than the request.
	SyncInterval time.Duration
	// SegmentBytes starts a new segment file after one reaches this size
	// (default 16 MiB, at most MaxBytes/4).
	SegmentBytes int64
	// MaxBytes is the disk size at which new sessions are refused
	// (default 1 GiB).
	MaxBytes int64
	// ReserveBytes is the room above MaxBytes kept for the events of
	// sessions already open (default MaxBytes/16).
	ReserveBytes int64
	// Logger receives recovery and failure reports; nil: slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ChunkEvents <= 0 {
		o.ChunkEvents = 256
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = 1 << 20
	}
	if o.ChunkDelay <= 0 {
		o.ChunkDelay = 200 * time.Millisecond
	}
	if o.CommitDelay < 0 {
		o.CommitDelay = 0
	}
	if o.SyncInterval < 0 {
		o.SyncInterval = 0
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 16 << 20
	}
	o.SegmentBytes = max(min(o.SegmentBytes, o.MaxBytes/4), 4096)
	if o.ReserveBytes <= 0 {
		o.ReserveBytes = o.MaxBytes / 16
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
