// SPDX-License-Identifier: Apache-2.0

// Package version says which build of Interlock is running.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at link time by the Makefile
// (-X github.com/interlockhq/interlock/internal/version.Version=...);
// builds without it report the VCS revision the go command recorded, if any.
var Version = ""

// Info describes a build.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the running binary's build information.
func Get() Info {
	info := Info{
		Version:   Version,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// String formats i on one line, as `interlock version` prints it.
func (i Info) String() string {
	s := fmt.Sprintf("interlock %s (%s, %s)", i.Version, i.GoVersion, i.Platform)
	if i.Revision != "" {
		s += " revision " + i.Revision
		if i.Modified {
			s += "+dirty"
		}
	}
	return s
}
