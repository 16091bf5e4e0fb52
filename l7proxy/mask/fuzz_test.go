// SPDX-License-Identifier: Apache-2.0

// Fuzz targets: the JSON transform against a reference built on
// encoding/json, and the detectors against themselves over split reads and
// inside JSON strings.

package mask

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// fuzzPaths are the path sets FuzzJSONMask picks from.
var fuzzPaths = [][]string{
	{"$.keys[*].value"},
	{"$..value", "$.a[0]"},
	{"$.*[-1]", "$['b'].c"},
	{"$..*"},
	{"$"},
	{"$[1].a..b", "$.value[-2]"},
}

func FuzzJSONMask(f *testing.F) {
	seeds := []string{
		`{"keys":[{"keyName":"key1","value":"abc","permissions":"FULL"},{"keyName":"key2","value":"def"}]}`,
		`{"a":[1,{"value":[true,null]}],"b":{"c":"x","value":-1.5e+3}}`,
		`[{"a":{"b":1}},{"a":{"x":{"b":[2]}}},3]`,
		`{"value":["\u00e9\ud83d\ude00","\/\b\f\n\r\t\"\\"],"v\u0061lue":0}`,
		`{"value":"alice@example.com 4111111111111111 ` + fakeStorageKey("f") + `"}`,
		"\ufeff {\"a\" : [ ] }  ",
		`[01]`, `{"a":}`, `"\ud800"`, `[1,]`, ``, `   `,
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, which uint8) {
		paths := fuzzPaths[int(which)%len(fuzzPaths)]
		var masks []*policy.MaskRule
		for _, p := range paths {
			masks = append(masks, &policy.MaskRule{JSONPath: jp(p), Rule: p})
		}
		valid := json.Valid(in)
		blank := len(bytes.TrimLeft(bytes.TrimPrefix(in, bom), " \t\r\n")) == 0
		for _, detectors := range [][]string{nil, policy.KnownDetectors()} {
			m, err := New(masks, detectors, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = m.JSON(context.Background(), &out, bytes.NewReader(in))
			if errors.Is(err, ErrTooDeep) {
				return
			}
			if valid != (err == nil) && !blank && !(bytes.HasPrefix(in, bom) && json.Valid(in[3:])) {
				t.Fatalf("json.Valid = %v but JSON error = %v", valid, err)
			}
			if err != nil {
				continue
			}
			if !blank && !json.Valid(bytes.TrimPrefix(out.Bytes(), bom)) {
				t.Fatalf("invalid output %q for valid input", out.Bytes())
			}
			if detectors != nil || blank {
				continue
			}
			// Without detectors the output must be exactly the input with
			// every selected value replaced.
			want := decodeNumbers(t, bytes.TrimPrefix(in, bom))
			want = refMask(want, masks)
			got := decodeNumbers(t, bytes.TrimPrefix(out.Bytes(), bom))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("paths %v\n in  %s\n got %s\nwant %#v", paths, in, out.Bytes(), want)
			}
		}
	})
}

func decodeNumbers(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// refMask is the reference: it replaces, in a decoded tree, the values
// the rules select, walking the tree with every rule's segments.
func refMask(root any, masks []*policy.MaskRule) any {
	type st struct{ r, k int }
	var walk func(v any, states []st) any
	walk = func(v any, states []st) any {
		for _, s := range states {
			if s.k == len(masks[s.r].JSONPath.Segments) {
				return PathMarker
			}
		}
		child := func(name string, isKey bool, idx, n int) []st {
			var next []st
			for _, s := range states {
				seg := masks[s.r].JSONPath.Segments[s.k]
				switch seg.Kind {
				case policy.SegChild:
					if isKey && name == seg.Name {
						next = append(next, st{s.r, s.k + 1})
					}
				case policy.SegIndex:
					if !isKey && (idx == seg.Index || seg.Index < 0 && idx == n+seg.Index) {
						next = append(next, st{s.r, s.k + 1})
					}
				case policy.SegWildcard:
					next = append(next, st{s.r, s.k + 1})
				case policy.SegDescendant:
					next = append(next, s)
					if isKey && name == seg.Name {
						next = append(next, st{s.r, s.k + 1})
					}
				case policy.SegDescendantWildcard:
					next = append(next, s, st{s.r, s.k + 1})
				}
			}
			return next
		}
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				x[k] = walk(c, child(k, true, 0, 0))
			}
		case []any:
			for i, c := range x {
				x[i] = walk(c, child("", false, i, len(x)))
			}
		}
		return v
	}
	var start []st
	for r := range masks {
		start = append(start, st{r, 0})
	}
	return walk(root, start)
}

func FuzzDetectors(f *testing.F) {
	k := fakeStorageKey("fz")
	for _, s := range []string{
		"AccountName=a;AccountKey=" + k + ";EndpointSuffix=core.windows.net",
		"owner alice@example.com, card 4111 1111 1111 1111, iban GB82 WEST 1234 5698 7654 32",
		"Authorization: Bearer " + defaultJWT(),
		fakePEM("PRIVATE KEY", "\n"),
		"https://s.blob.core.windows.net/c?sv=1&sig=" + fakeSig("fz") + "&se=2",
		"secret " + fakeEntraSecret("fz") + " Server=x;Password=y;",
		"12 4111111111111111.5 x@y.png a@b.c @@ eyJ. -----BEGIN PRIVATE KEY-----",
	} {
		f.Add(s, uint16(7))
	}
	f.Fuzz(func(t *testing.T, text string, split uint16) {
		m := newMasker(t, nil, policy.KnownDetectors())
		whole, res, err := textOf(m, strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		var n uint32
		for _, a := range res.Applied {
			n += a.Count
		}
		if c := strings.Count(whole, "[MASKED:") - strings.Count(text, "[MASKED:"); c < int(n) {
			t.Fatalf("%d markers for %d matches", c, n)
		}
		// Split reads give the same output.
		size := int(split%97) + 1
		split1, _, err := textOf(m, &chunkReader{data: []byte(text), sizes: []int{size, 1, 4096}})
		if err != nil {
			t.Fatal(err)
		}
		byByte, _, err := textOf(m, iotest.OneByteReader(strings.NewReader(text)))
		if err != nil {
			t.Fatal(err)
		}
		if split1 != whole || byByte != whole {
			t.Fatalf("split reads differ:\nwhole %q\nsplit %q\nbytes %q", whole, split1, byByte)
		}
		// Inside a JSON string the same text is masked the same way.
		enc, _ := json.Marshal(text)
		var decoded string
		if err := json.Unmarshal(enc, &decoded); err != nil {
			t.Fatal(err)
		}
		ref, _, err := textOf(m, strings.NewReader(decoded))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := maskJSON(t, m, string(enc))
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		var gotText string
		if err := json.Unmarshal([]byte(got), &gotText); err != nil {
			t.Fatalf("output %q: %v", got, err)
		}
		if gotText != ref {
			t.Fatalf("in JSON %q, as text %q", gotText, ref)
		}
	})
}
