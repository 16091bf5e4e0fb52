// SPDX-License-Identifier: Apache-2.0

// The UTF-8 check refuses exactly what protobuf-go's marshaller refuses:
// every string field of every kind of event, however deeply nested or
// repeated, holding invalid UTF-8 — and nothing else (bytes fields may hold
// anything).

package spool

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// fill sets every field of m (two elements per list; the first field of
// each oneof but the one chosen by pick), down to depth.
func fill(m protoreflect.Message, depth int, pick protoreflect.FieldDescriptor) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			want := o.Fields().Get(0)
			if pick != nil && pick.ContainingOneof() == o {
				want = pick
			}
			if fd != want {
				continue
			}
		}
		if fd.IsMap() {
			continue // the events have none
		}
		if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
			if depth == 0 {
				continue
			}
			if fd.IsList() {
				l := m.Mutable(fd).List()
				for range 2 {
					e := l.NewElement()
					fill(e.Message(), depth-1, nil)
					l.Append(e)
				}
				continue
			}
			fill(m.Mutable(fd).Message(), depth-1, nil)
			continue
		}
		v := scalar(fd)
		if fd.IsList() {
			l := m.Mutable(fd).List()
			l.Append(v)
			l.Append(v)
			continue
		}
		m.Set(fd, v)
	}
}

func scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("ok é")
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("\xff\xfe not UTF-8, and fine"))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(-7)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(-7)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(7)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(7)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(1.5)
	}
	panic("kind " + fd.Kind().String())
}

// stringSetters calls visit with a setter for every string value in m.
func stringSetters(m protoreflect.Message, visit func(set func(string))) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Kind() == protoreflect.StringKind && fd.IsList():
			l := v.List()
			for i := range l.Len() {
				visit(func(s string) { l.Set(i, protoreflect.ValueOfString(s)) })
			}
		case fd.Kind() == protoreflect.StringKind:
			visit(func(s string) { m.Set(fd, protoreflect.ValueOfString(s)) })
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			l := v.List()
			for i := range l.Len() {
				stringSetters(l.Get(i).Message(), visit)
			}
		case fd.Kind() == protoreflect.MessageKind:
			stringSetters(v.Message(), visit)
		}
		return true
	})
}

func TestUTF8CheckMatchesProto(t *testing.T) {
	ev := &interlockv1.SessionEvent{}
	schema := newWireSchema(ev.ProtoReflect().Descriptor())
	kinds := ev.ProtoReflect().Descriptor().Oneofs().ByName("event").Fields()
	checked := 0
	for i := range kinds.Len() {
		base := &interlockv1.SessionEvent{}
		fill(base.ProtoReflect(), 4, kinds.Get(i))
		n := 0
		stringSetters(proto.Clone(base).ProtoReflect(), func(func(string)) { n++ })
		for k := -1; k < n; k++ {
			e := proto.Clone(base).(*interlockv1.SessionEvent)
			j := 0
			stringSetters(e.ProtoReflect(), func(set func(string)) {
				if j == k {
					set("bad \xc3\x28 byte")
				}
				j++
			})
			_, perr := proto.MarshalOptions{Deterministic: true}.Marshal(e)
			b, err := e.MarshalVT()
			if err != nil {
				t.Fatal(err)
			}
			cerr := schema.check(b)
			if (perr == nil) != (cerr == nil) || (cerr != nil && !errors.Is(cerr, errInvalidUTF8)) {
				t.Errorf("%s, string %d: check says %v, protobuf-go %v", kinds.Get(i).Name(), k, cerr, perr)
			}
			checked++
		}
	}
	t.Logf("%d events checked", checked)
	if checked < 100 {
		t.Fatalf("only %d events checked: fill reaches too little", checked)
	}
}

// Append refuses an event protobuf-go would not marshal, as it did when
// it marshalled with protobuf-go, and takes the rest.
func TestAppendRefusesInvalidUTF8(t *testing.T) {
	sp, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	bad := &interlockv1.SessionEvent{SessionId: "s", Seq: 1, Event: &interlockv1.SessionEvent_HttpRequest{HttpRequest: &interlockv1.HTTPRequest{
		Method: "GET", Headers: []*interlockv1.Header{{Name: "X-Latin-1", Values: []string{"caf\xe9"}}},
	}}}
	if err := sp.Append(t.Context(), []*interlockv1.SessionEvent{bad}); !errors.Is(err, errInvalidUTF8) {
		t.Fatalf("Append of a header that is not UTF-8: %v, want %v", err, errInvalidUTF8)
	}
	bad.GetHttpRequest().Headers[0].Values[0] = "café"
	if err := sp.Append(t.Context(), []*interlockv1.SessionEvent{bad}); err != nil {
		t.Fatalf("Append of the same event in UTF-8: %v", err)
	}
}

// FuzzUTF8Check: whatever bytes a header value or a statement holds, the
// check and protobuf-go agree.
func FuzzUTF8Check(f *testing.F) {
	f.Add("plain", "SELECT 1")
	f.Add("caf\xe9", "SELECT '\xed\xa0\x80'") // Latin-1; a UTF-16 surrogate
	f.Add("\xf4\x90\x80\x80", "\xc0\xaf")     // past U+10FFFF; overlong
	schema := newWireSchema((&interlockv1.SessionEvent{}).ProtoReflect().Descriptor())
	f.Fuzz(func(t *testing.T, hv, sql string) {
		for _, e := range []*interlockv1.SessionEvent{
			{Event: &interlockv1.SessionEvent_HttpRequest{HttpRequest: &interlockv1.HTTPRequest{Headers: []*interlockv1.Header{{Name: "X", Values: []string{"a", hv}}}}}},
			{Event: &interlockv1.SessionEvent_PgQuery{PgQuery: &interlockv1.PGQuery{Text: sql, Tables: []string{hv}}}},
		} {
			_, perr := proto.Marshal(e)
			b, err := e.MarshalVT()
			if err != nil {
				t.Fatal(err)
			}
			if cerr := schema.check(b); (perr == nil) != (cerr == nil) {
				t.Fatalf("check says %v, protobuf-go %v", cerr, perr)
			}
		}
	})
}
