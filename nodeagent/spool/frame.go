// SPDX-License-Identifier: Apache-2.0

// Record framing: length, CRC32C, type, payload.

package spool

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

const (
	// magic starts every segment file.
	magic = "ILSPOOL\x01"
	// frameHeader is the length and CRC before a record's type byte.
	frameHeader = 8
	// maxRecord bounds a record's length, so a garbage length is caught
	// without reading gigabytes.
	maxRecord = 64 << 20

	typeEvent = 'E'
	typeChunk = 'C'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameSize is the size on disk of a record with an n-byte payload.
func frameSize(n int) int { return frameHeader + 1 + n }

// appendFrame appends a framed record to dst.
func appendFrame(dst []byte, typ byte, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(1+len(payload)))
	crc := crc32.Update(crc32.Checksum([]byte{typ}, castagnoli), castagnoli, payload)
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	dst = append(dst, typ)
	return append(dst, payload...)
}

// fillHeader writes the length and CRC of the record at b[start:], which
// holds frameHeader placeholder bytes, the type byte and the payload.
func fillHeader(b []byte, start int) {
	body := b[start+frameHeader:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(body, castagnoli))
}

var (
	errShort = errors.New("record extends past the end of the file")
	errCRC   = errors.New("checksum mismatch")
	errLen   = errors.New("bad record length")
	errType  = errors.New("unknown record type")
)

// parseFrame reads the record at the start of b and returns its type,
// payload (aliasing b) and total size.
func parseFrame(b []byte) (typ byte, payload []byte, n int, err error) {
	if len(b) < frameHeader+1 {
		return 0, nil, 0, errShort
	}
	l := binary.LittleEndian.Uint32(b)
	if l < 1 || l > maxRecord {
		return 0, nil, 0, errLen
	}
	if uint64(len(b)-frameHeader) < uint64(l) {
		return 0, nil, 0, errShort
	}
	body := b[frameHeader : frameHeader+int(l)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, nil, 0, errCRC
	}
	if body[0] != typeEvent && body[0] != typeChunk {
		return 0, nil, 0, errType
	}
	return body[0], body[1:], frameHeader + int(l), nil
}
