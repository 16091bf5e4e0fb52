// SPDX-License-Identifier: Apache-2.0

// The JSON transform: paths, detectors inside values, formatting kept,
// errors, limits, and the same output however the input is split.

package mask

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

func maskJSON(t testing.TB, m *Masker, in string) (string, Result, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := m.JSON(context.Background(), &out, strings.NewReader(in))
	return out.String(), res, err
}

func TestJSONPaths(t *testing.T) {
	listKeys := `{"keys": [
  {"creationTime": "2024-01-01T00:00:00Z", "keyName": "key1", "value": "K1", "permissions": "FULL"},
  {"creationTime": "2024-01-01T00:00:00Z", "keyName": "key2", "value": "K2", "permissions": "FULL"}
]}`
	tests := []struct {
		name  string
		paths []string
		in    string
		want  string
	}{
		{"listKeys", []string{"$.keys[*].value"}, listKeys, strings.NewReplacer(`"K1"`, `"[MASKED]"`, `"K2"`, `"[MASKED]"`).Replace(listKeys)},
		{"one index", []string{"$.keys[1].value"}, listKeys, strings.Replace(listKeys, `"K2"`, `"[MASKED]"`, 1)},
		{"negative index", []string{"$.keys[-1].value"}, listKeys, strings.Replace(listKeys, `"K2"`, `"[MASKED]"`, 1)},
		{"negative index -2", []string{"$.keys[-2].value"}, listKeys, strings.Replace(listKeys, `"K1"`, `"[MASKED]"`, 1)},
		{"negative index out of range", []string{"$.keys[-3].value"}, listKeys, listKeys},
		{"bracket name", []string{"$['keys'][*]['value']"}, listKeys, strings.NewReplacer(`"K1"`, `"[MASKED]"`, `"K2"`, `"[MASKED]"`).Replace(listKeys)},
		{"descendant", []string{"$..value"}, listKeys, strings.NewReplacer(`"K1"`, `"[MASKED]"`, `"K2"`, `"[MASKED]"`).Replace(listKeys)},
		{"key vault secret", []string{"$.value"}, `{"value":"s3cret","id":"https://kv.vault.azure.net/secrets/db/1","attributes":{"enabled":true}}`,
			`{"value":"[MASKED]","id":"https://kv.vault.azure.net/secrets/db/1","attributes":{"enabled":true}}`},
		{"connection strings of a web app", []string{"$.properties.connectionStrings[*].connectionString"},
			`{"properties":{"connectionStrings":[{"name":"db","connectionString":"Server=x;Password=y","type":"SQLAzure"}]}}`,
			`{"properties":{"connectionStrings":[{"name":"db","connectionString":"[MASKED]","type":"SQLAzure"}]}}`},
		{"non-string values", []string{"$.a", "$.b", "$.c", "$.d", "$.e", "$.f"}, `{"a":{"x":[1,{"y":2}]},"b":[1,2,3],"c":12.5e3,"d":true,"e":null,"f":-0}`,
			`{"a":"[MASKED]","b":"[MASKED]","c":"[MASKED]","d":"[MASKED]","e":"[MASKED]","f":"[MASKED]"}`},
		{"whole document", []string{"$"}, ` {"a": [1, 2]} `, ` "[MASKED]" `},
		{"wildcard member", []string{"$.*"}, `{"a":1,"b":{"c":2}}`, `{"a":"[MASKED]","b":"[MASKED]"}`},
		{"descendant wildcard", []string{"$.a..*"}, `{"a":{"b":{"c":1},"d":[2]},"e":3}`, `{"a":{"b":"[MASKED]","d":"[MASKED]"},"e":3}`},
		{"escaped member name", []string{"$.value"}, `{"v\u0061lue":"x","valu\"e":"y"}`, `{"v\u0061lue":"[MASKED]","valu\"e":"y"}`},
		{"case matters", []string{"$.value"}, `{"Value":"x"}`, `{"Value":"x"}`},
		{"index on object", []string{"$[0]"}, `{"0":"x"}`, `{"0":"x"}`},
		{"name on array", []string{"$.a"}, `["a"]`, `["a"]`},
		{"nested arrays", []string{"$[1][0]"}, `[[1,2],[3,4]]`, `[[1,2],["[MASKED]",4]]`},
		{"empty containers", []string{"$.a[0]"}, `{"a":[],"b":{}}`, `{"a":[],"b":{}}`},
		{"whitespace kept", []string{"$.a"}, "{\n\t\"a\" :\r\n [ 1 ,\n 2 ] ,\"b\" : 1 }\n", "{\n\t\"a\" :\r\n \"[MASKED]\" ,\"b\" : 1 }\n"},
		{"duplicate members both masked", []string{"$.a"}, `{"a":1,"a":2}`, `{"a":"[MASKED]","a":"[MASKED]"}`},
		{"deep descendant only outermost", []string{"$..a"}, `{"a":{"a":1},"b":{"a":[{"a":2}]}}`, `{"a":"[MASKED]","b":{"a":"[MASKED]"}}`},
		{"empty body", []string{"$.a"}, "  \n", "  \n"},
		{"BOM", []string{"$.a"}, "\ufeff{\"a\":1}", "\ufeff{\"a\":\"[MASKED]\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMasker(t, tt.paths, nil)
			got, _, err := maskJSON(t, m, tt.in)
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestJSONDetectors(t *testing.T) {
	k := fakeStorageKey("j")
	tok := defaultJWT()
	tests := []struct {
		name      string
		masks     []*policy.MaskRule
		detectors []string
		in, want  string
		applied   []Applied
	}{
		{"policy-wide detectors in values and keys", nil, []string{"email", "jwt"},
			`{"alice@example.com":{"token":"` + tok + `","n":1}}`,
			`{"[MASKED:email]":{"token":"[MASKED:jwt]","n":1}}`,
			[]Applied{{Detector: "email", Count: 1}, {Detector: "jwt", Count: 1}}},
		{"card number as a number becomes a string", nil, []string{"credit-card"},
			`{"pan":4111111111111111,"amount":1234567890123,"neg":-4111111111111111}`,
			`{"pan":"[MASKED:credit-card]","amount":1234567890123,"neg":"-[MASKED:credit-card]"}`,
			[]Applied{{Detector: "credit-card", Count: 2}}},
		{"escapes decoded for detection and re-escaped", nil, []string{"azure-sas", "private-key"},
			`{"url":"https://s/c?sv=1\u0026sig=` + fakeSig("x") + `\u0026se=2","pem":"` + fakePEM("PRIVATE KEY", `\n`) + `\n","t":"tab\there"}`,
			`{"url":"https://s/c?sv=1&sig=[MASKED:azure-sas]&se=2","pem":"[MASKED:private-key]\n","t":"tab\there"}`,
			[]Applied{{Detector: "azure-sas", Count: 1}, {Detector: "private-key", Count: 1}}},
		{"detectors scoped by a path", []*policy.MaskRule{{JSONPath: jp("$.properties.siteConfig.appSettings[*].value"), Detectors: []string{"azure-connection-string"}, Rule: "app-settings"}}, nil,
			`{"properties":{"siteConfig":{"appSettings":[{"name":"DB","value":"Server=x;Password=p1;"}]}},"other":"Server=x;Password=p2;"}`,
			`{"properties":{"siteConfig":{"appSettings":[{"name":"DB","value":"Server=x;Password=[MASKED:azure-connection-string];"}]}},"other":"Server=x;Password=p2;"}`,
			[]Applied{{Rule: "app-settings", JSONPath: "$.properties.siteConfig.appSettings[*].value", Detector: "azure-connection-string", Count: 1}}},
		{"detector-only rule and policy-wide detector", []*policy.MaskRule{{Detectors: []string{"azure-storage-key"}, Rule: "keys"}}, []string{"azure-storage-key", "email"},
			`["` + k + `","a@example.com"]`, `["[MASKED:azure-storage-key]","[MASKED:email]"]`,
			[]Applied{{Rule: "keys", Detector: "azure-storage-key", Count: 1}, {Detector: "email", Count: 1}}},
		{"whole mask wins over scoped detectors", []*policy.MaskRule{
			{JSONPath: jp("$..value"), Detectors: []string{"email"}, Rule: "scan"},
			{JSONPath: jp("$.a.value"), Rule: "hide"}}, nil,
			`{"a":{"value":"x@example.com"},"b":{"value":"y@example.com z"}}`,
			`{"a":{"value":"[MASKED]"},"b":{"value":"[MASKED:email] z"}}`,
			[]Applied{{Rule: "scan", JSONPath: "$..value", Detector: "email", Count: 1}, {Rule: "hide", JSONPath: "$.a.value", Count: 1}}},
		{"postgres column masks ignored", []*policy.MaskRule{{Column: "email", Rule: "pg"}}, nil, `{"email":"a@example.com"}`, `{"email":"a@example.com"}`, nil},
		{"invalid UTF-8 in a masked string", nil, []string{"email"}, "[\"\xff a@example.com \xe2\x82\"]", `["\ufffd [MASKED:email] \ufffd\ufffd"]`, []Applied{{Detector: "email", Count: 1}}},
		{"unchanged strings keep their escapes", nil, []string{"email"}, `["\u00e9\/\n"]`, `["\u00e9\/\n"]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.masks, tt.detectors, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, res, err := maskJSON(t, m, tt.in)
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("output is not valid JSON")
			}
			if len(res.Applied) != len(tt.applied) {
				t.Fatalf("applied %+v, want %+v", res.Applied, tt.applied)
			}
			for i := range tt.applied {
				if res.Applied[i] != tt.applied[i] {
					t.Errorf("applied[%d] = %+v, want %+v", i, res.Applied[i], tt.applied[i])
				}
			}
		})
	}
}

func jp(s string) *policy.JSONPath {
	p, err := policy.ParseJSONPath(s)
	if err != nil {
		panic(err)
	}
	return p
}

func TestJSONErrors(t *testing.T) {
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	tests := []struct {
		name string
		in   string
		opts Options
		is   error
	}{
		{"truncated", `{"a":[1,2`, Options{}, nil},
		{"trailing comma", `[1,2,]`, Options{}, nil},
		{"trailing data", `{} {}`, Options{}, nil},
		{"bare word", `{"a":tru}`, Options{}, nil},
		{"single quotes", `{'a':1}`, Options{}, nil},
		{"leading zero", `[01]`, Options{}, nil},
		{"lone minus", `[-]`, Options{}, nil},
		{"bad escape", `["\x"]`, Options{}, nil},
		{"short unicode escape", `["\u12"]`, Options{}, nil},
		{"control character", "[\"a\nb\"]", Options{}, nil},
		{"unterminated string", `["abc`, Options{}, nil},
		{"missing colon", `{"a" 1}`, Options{}, nil},
		{"number member name", `{1:2}`, Options{}, nil},
		{"too deep", deep, Options{}, ErrTooDeep},
		{"too deep for a small limit", `[[[[1]]]]`, Options{MaxDepth: 3}, ErrTooDeep},
		{"too large", `{"a":"` + strings.Repeat("x", 2000) + `"}`, Options{MaxBytes: 1000}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, paths := range [][]*policy.MaskRule{nil, {{JSONPath: jp("$[-1]")}}} {
				m, err := New(paths, []string{"email"}, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = maskJSON(t, m, tt.in)
				if err == nil {
					t.Fatalf("no error")
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Fatalf("error %v, want %v", err, tt.is)
				}
				var se *SyntaxError
				if tt.is == nil && !errors.As(err, &se) {
					t.Fatalf("error %T %v, want *SyntaxError", err, err)
				}
			}
		})
	}
}

// TestJSONLimitBeforeOutput: with a negative index the body is read whole
// first, so a body over the limit writes nothing.
func TestJSONLimitBeforeOutput(t *testing.T) {
	m, err := New([]*policy.MaskRule{{JSONPath: jp("$.a[-1]")}}, nil, Options{MaxBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := maskJSON(t, m, `{"a":[`+strings.Repeat(`"x",`, 50)+`"y"]}`)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 100 || out != "" {
		t.Fatalf("err %v, out %q", err, out)
	}
}

// TestJSONSplitReads: the output does not depend on how reads split the
// input.
func TestJSONSplitReads(t *testing.T) {
	k := fakeStorageKey("split")
	doc := `{"keys":[{"keyName":"key1","value":"` + k + `"}],"note":"owner alice@example.com, token ` + defaultJWT() + `",` +
		`"esc":"\ud83d\ude00 \u00e9 sig? ?sv=1\u0026sig=` + fakeSig("s") + `","n":[4111111111111111, 1.5e-3, -0, true, false, null]}`
	for _, paths := range [][]string{nil, {"$.keys[*].value"}, {"$.n[-1]"}} {
		m := newMasker(t, paths, policy.KnownDetectors())
		want, _, err := maskJSON(t, m, doc)
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(doc)),
			"half":     iotest.HalfReader(strings.NewReader(doc)),
			"data+EOF": iotest.DataErrReader(strings.NewReader(doc)),
		} {
			var out bytes.Buffer
			if _, err := m.JSON(context.Background(), &out, r); err != nil {
				t.Fatalf("%v %s: %v", paths, name, err)
			}
			if out.String() != want {
				t.Errorf("%v %s:\n got %s\nwant %s", paths, name, out.String(), want)
			}
		}
	}
}

// TestJSONLongString: a string longer than the whole-string window is
// scanned in windows; matches anywhere in it, across window edges too,
// are masked just as Text masks the same text.
func TestJSONLongString(t *testing.T) {
	email := "someone@example.com"
	for _, at := range []int{0, strWindow - 5, strWindow + 3, windowStep + lookahead - 10, 3*windowStep + 7, 200 << 10} {
		var sb strings.Builder
		for sb.Len() < at {
			sb.WriteString("lorem ipsum é \"q\" ")
		}
		sb.WriteString(email)
		for sb.Len() < 300<<10 {
			sb.WriteString(" dolor\tsit")
		}
		text := sb.String()
		enc, _ := json.Marshal(map[string]string{"k": text})
		m := newMasker(t, nil, []string{"email"})
		got, res, err := maskJSON(t, m, string(enc))
		if err != nil {
			t.Fatal(err)
		}
		var dec map[string]string
		if err := json.Unmarshal([]byte(got), &dec); err != nil {
			t.Fatalf("at %d: output not JSON: %v", at, err)
		}
		wantText, _ := maskText(t, text, "email")
		if dec["k"] != wantText || strings.Contains(got, email) || len(res.Applied) != 1 || res.Applied[0].Count != 1 {
			t.Errorf("at %d: masked %d, applied %+v", at, strings.Count(dec["k"], "[MASKED:email]"), res.Applied)
		}
	}
}

func TestJSONContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newMasker(t, nil, []string{"email"})
	_, err := m.JSON(ctx, io.Discard, strings.NewReader(`{}`))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestJSONWriteError(t *testing.T) {
	m := newMasker(t, nil, []string{"email"})
	boom := errors.New("boom")
	_, err := m.JSON(context.Background(), errWriter{boom}, strings.NewReader(`{"a":1}`))
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }
