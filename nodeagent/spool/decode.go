// SPDX-License-Identifier: Apache-2.0

// DecodeChunk: the reverse of sealing, for readers of chunks.

package spool

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// maxBatch bounds a decompressed chunk.
const maxBatch = 256 << 20

// DecodeChunk checks c's sha256 and event count and returns its events. It
// makes a zstd decoder per call: callers decoding many chunks on a hot path
// should keep their own.
func DecodeChunk(c *interlockv1.UploadChunk) (*interlockv1.EventBatch, error) {
	if sum := sha256.Sum256(c.GetZstd()); string(sum[:]) != string(c.GetSha256()) {
		return nil, fmt.Errorf("spool: chunk %d: sha256 mismatch", c.GetSeq())
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBatch))
	if err != nil {
		return nil, fmt.Errorf("spool: zstd: %w", err)
	}
	defer dec.Close()
	raw, err := dec.DecodeAll(c.GetZstd(), make([]byte, 0, min(c.GetUncompressedSize(), 1<<20)))
	if err != nil {
		return nil, fmt.Errorf("spool: chunk %d: decompress: %w", c.GetSeq(), err)
	}
	b := &interlockv1.EventBatch{}
	if err := proto.Unmarshal(raw, b); err != nil {
		return nil, fmt.Errorf("spool: chunk %d: %w", c.GetSeq(), err)
	}
	if len(b.Events) != int(c.GetEvents()) || uint64(len(raw)) != c.GetUncompressedSize() {
		return nil, fmt.Errorf("spool: chunk %d: %w", c.GetSeq(), errors.New("event count or size does not match its header"))
	}
	return b, nil
}
