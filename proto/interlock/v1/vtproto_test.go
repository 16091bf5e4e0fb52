// SPDX-License-Identifier: Apache-2.0

// The generated fast marshaller (vtprotobuf, used by the spool) writes the
// bytes protobuf-go's deterministic marshaller writes, for every kind of
// event, unknown fields included.

package interlockv1

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func TestMarshalVTMatchesProto(t *testing.T) {
	evs := goldenEvents()
	// An event from a newer schema: its unknown fields are kept.
	future := proto.Clone(evs[0]).(*SessionEvent)
	unknown := protowire.AppendTag(nil, 999, protowire.BytesType)
	unknown = protowire.AppendBytes(unknown, []byte("from a newer node"))
	future.ProtoReflect().SetUnknown(unknown)
	evs = append(evs, future, &SessionEvent{})
	for i, ev := range evs {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if n := ev.SizeVT(); n != len(want) {
			t.Errorf("event %d (%T): SizeVT %d, proto %d bytes", i, ev.GetEvent(), n, len(want))
			continue
		}
		got, err := ev.MarshalVT()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("event %d (%T): MarshalVT differs from proto.Marshal", i, ev.GetEvent())
		}
	}
}
