// SPDX-License-Identifier: Apache-2.0

// config_test.go tests Config's defaults, validation and prefix mapping.

package bpf

import (
	"net/netip"
	"slices"
	"testing"
)

func TestMapPrefix(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"0.0.0.0/0", "::ffff:0.0.0.0/96"},
		{"10.1.2.3/8", "::ffff:10.0.0.0/104"},
		{"127.0.0.9/32", "::ffff:127.0.0.9/128"},
		{"::/0", "::/0"},
		{"fd00::1/8", "fd00::/8"},
		{"::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"},
	}
	for _, tt := range tests {
		got, err := mapPrefix(netip.MustParsePrefix(tt.in))
		if err != nil {
			t.Errorf("mapPrefix(%s): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("mapPrefix(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestConfig(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name      string
		cfg       Config
		wantErr   bool
		wantPorts []uint16
		wantRules []dstRule
	}{
		{
			name:      "defaults",
			wantPorts: []uint16{443, 5432},
			wantRules: []dstRule{{p("::/0"), actionIntercept}},
		},
		{
			name:      "ports and prefixes",
			cfg:       Config{Ports: []uint16{8443}, Intercept: []netip.Prefix{p("10.0.0.0/8")}, Skip: []netip.Prefix{p("10.1.0.0/16")}},
			wantPorts: []uint16{8443},
			wantRules: []dstRule{{p("::ffff:10.0.0.0/104"), actionIntercept}, {p("::ffff:10.1.0.0/112"), actionSkip}},
		},
		{name: "relative pin dir", cfg: Config{PinDir: "interlock"}, wantErr: true},
		{name: "port 0", cfg: Config{Ports: []uint16{0}}, wantErr: true},
		{name: "too many ports", cfg: Config{Ports: make([]uint16, 65)}, wantErr: true},
		{name: "both", cfg: Config{Intercept: []netip.Prefix{p("10.0.0.0/8")}, Skip: []netip.Prefix{p("10.0.0.0/8")}}, wantErr: true},
		{name: "invalid prefix", cfg: Config{Skip: []netip.Prefix{{}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.cfg.withDefaults()
			var rules []dstRule
			if err == nil {
				rules, err = c.rules()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if c.PinDir != DefaultPinDir || c.MaxConnections != DefaultMaxConnections {
				t.Errorf("defaults: pin dir %q, max %d", c.PinDir, c.MaxConnections)
			}
			if !slices.Equal(c.Ports, tt.wantPorts) {
				t.Errorf("ports %v, want %v", c.Ports, tt.wantPorts)
			}
			if !slices.Equal(rules, tt.wantRules) {
				t.Errorf("rules %v, want %v", rules, tt.wantRules)
			}
		})
	}
}
