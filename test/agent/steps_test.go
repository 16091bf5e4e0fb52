// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseSteps(t *testing.T) {
	tests := []struct {
		args    string
		want    string // step(args) ...
		wantErr string
	}{
		{"list-groups", "list-groups()", ""},
		{"create-group rg1 delete-group rg1 list-groups", "create-group(rg1) delete-group(rg1) list-groups()", ""},
		{"regenerate-key rg acct key1 set-secret kv n v", "regenerate-key(rg,acct,key1) set-secret(kv,n,v)", ""},
		{"", "", "no steps given"},
		{"list-groups frobnicate", "", `unknown step "frobnicate"`},
		{"get-secret kv", "", "step get-secret needs 2 arguments, got 1"},
	}
	for _, tt := range tests {
		calls, err := parseSteps(strings.Fields(tt.args))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseSteps(%q) error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		var got []string
		for _, c := range calls {
			got = append(got, c.step.name+"("+strings.Join(c.args, ",")+")")
		}
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("parseSteps(%q) = %v, %v; want %s", tt.args, got, err, tt.want)
		}
	}
}

func TestWriteLine(t *testing.T) {
	s, _ := findStep("get-secret")
	c := call{step: s, args: []string{"kv", "x"}}
	tests := []struct {
		res  any
		err  error
		want string
	}{
		{map[string]string{"name": "x"}, nil, `{"step":"get-secret","args":["kv","x"],"ok":true,"result":{"name":"x"}}`},
		{nil, errors.New("dial tcp: lookup kv.vault.azure.net: no such host\nmore"), `{"step":"get-secret","args":["kv","x"],"ok":false,"error":{"message":"dial tcp: lookup kv.vault.azure.net: no such host"}}`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := writeLine(&b, c, tt.res, tt.err); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSuffix(b.String(), "\n"); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}
