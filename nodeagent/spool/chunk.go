// SPDX-License-Identifier: Apache-2.0

// Sealing: unsealed events → EventBatch → zstd → UploadChunk record.

package spool

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// eventBatch appends to dst the serialized EventBatch of the serialized
// events evs: each is field 1, length-delimited, which is exactly what
// proto.Marshal of an EventBatch holding them produces.
func eventBatch(dst []byte, evs [][]byte) []byte {
	for _, ev := range evs {
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendBytes(dst, ev)
	}
	return dst
}

// chunkPayload is the payload of a chunk record: when its first event was
// appended, then the UploadChunk.
func chunkPayload(first time.Time, c *interlockv1.UploadChunk) ([]byte, error) {
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+proto.Size(c)), uint64(first.UnixNano()))
	b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(b, c)
	if err != nil {
		return nil, fmt.Errorf("marshal chunk: %w", err)
	}
	return b, nil
}

// parseChunkPayload reverses chunkPayload. The chunk's zstd bytes alias p.
func parseChunkPayload(p []byte) (time.Time, *interlockv1.UploadChunk, error) {
	if len(p) < 8 {
		return time.Time{}, nil, fmt.Errorf("chunk record too short")
	}
	first := time.Unix(0, int64(binary.LittleEndian.Uint64(p)))
	c := &interlockv1.UploadChunk{}
	if err := proto.Unmarshal(p[8:], c); err != nil {
		return time.Time{}, nil, fmt.Errorf("unmarshal chunk: %w", err)
	}
	if sum := sha256.Sum256(c.GetZstd()); string(sum[:]) != string(c.GetSha256()) {
		return time.Time{}, nil, fmt.Errorf("chunk %d: sha256 mismatch", c.GetSeq())
	}
	return first, c, nil
}
