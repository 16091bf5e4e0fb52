// SPDX-License-Identifier: Apache-2.0

// UTF-8 checks of marshalled events. Events are marshalled by
// vtprotobuf's generated code, which, unlike protobuf-go's, does not
// refuse a string field holding invalid UTF-8; every reader (the control
// plane, verify, replay) decodes with protobuf-go, which would refuse the
// whole chunk. So the spool checks the wire bytes against the schema, as
// protobuf-go's marshaller would have.

package spool

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// errInvalidUTF8 is an event that protobuf-go would not marshal.
var errInvalidUTF8 = errors.New("string field contains invalid UTF-8")

// wireSchema is what the check needs of a message type: which fields are
// strings and which messages, by number.
type wireSchema struct {
	strings map[protowire.Number]bool
	msgs    map[protowire.Number]*wireSchema
}

// newWireSchema returns md's schema, and that of every message it holds.
func newWireSchema(md protoreflect.MessageDescriptor) *wireSchema {
	return buildSchema(md, map[protoreflect.FullName]*wireSchema{})
}

func buildSchema(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*wireSchema) *wireSchema {
	if s, ok := seen[md.FullName()]; ok {
		return s
	}
	s := &wireSchema{strings: map[protowire.Number]bool{}, msgs: map[protowire.Number]*wireSchema{}}
	seen[md.FullName()] = s
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch fd.Kind() {
		case protoreflect.StringKind:
			// proto3 strings must be UTF-8 (the events are proto3; the
			// equivalence test holds this check to protobuf-go's).
			s.strings[fd.Number()] = fd.Syntax() == protoreflect.Proto3
		case protoreflect.MessageKind:
			s.msgs[fd.Number()] = buildSchema(fd.Message(), seen)
		}
	}
	return s
}

// check returns errInvalidUTF8, with the field's path, if a string field
// of the message in b holds invalid UTF-8; an error if b is not a message.
func (s *wireSchema) check(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("marshalled event: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("marshalled event: %w", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("marshalled event: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case s.strings[num]:
			if !utf8.Valid(v) {
				return fmt.Errorf("field %d: %w", num, errInvalidUTF8)
			}
		case s.msgs[num] != nil:
			if err := s.msgs[num].check(v); err != nil {
				return fmt.Errorf("field %d.%w", num, err)
			}
		}
	}
	return nil
}
