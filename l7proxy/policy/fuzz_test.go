// SPDX-License-Identifier: Apache-2.0

// FuzzLoad: the YAML and CEL loader must never panic or hang, and what it
// loads must evaluate.

package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	broken, _ := filepath.Glob("testdata/broken/*.yaml")
	for _, name := range append(files, broken...) {
		y, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(y) > 8<<10 {
			continue // large seeds make minimising slow; the small ones cover the grammar
		}
		f.Add(y)
	}
	f.Fuzz(func(t *testing.T, y []byte) {
		start := time.Now()
		b, err := Load([]Document{{Name: "fuzz.yaml", YAML: y}}, Options{MaxDocumentSize: 64 << 10})
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Load error is not Problems: %v", err)
			}
			for _, p := range ps {
				if p.Document != "fuzz.yaml" && p.Document != "" {
					t.Fatalf("problem names document %q", p.Document)
				}
			}
			return
		}
		var d Decision
		for _, req := range []*Request{armReq("GET", "Microsoft.Storage/storageAccounts/listKeys/action"), sqlReq("DROP", false)} {
			err := b.EvaluateInto(context.Background(), req, &d)
			var ee *EvalError
			if err != nil && !errors.As(err, &ee) {
				t.Fatalf("evaluate: %v", err)
			}
			if err != nil && d.Action != Deny {
				t.Fatalf("evaluation error %v did not deny", err)
			}
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("load and evaluate of %d bytes took %s", len(y), el)
		}
	})
}
