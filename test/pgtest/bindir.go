// SPDX-License-Identifier: Apache-2.0

// Finding PostgreSQL's server binaries.

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNotInstalled reports that PostgreSQL's server binaries (initdb,
// postgres) are missing. Tests skip on it outside CI; under CI=true it is a
// failure.
var ErrNotInstalled = errors.New("postgresql server binaries not found: install them with `apt-get install postgresql` or set Options.BinDir")

// debianBinGlob is where Debian and Ubuntu install each major version.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// serverBinaries are the programs pgtest runs from the bin dir.
var serverBinaries = [...]string{"initdb", "postgres"}

// findBinDir returns override after checking it, or else the bin dir of the
// newest version under glob that holds every server binary.
func findBinDir(override, glob string) (string, error) {
	if override != "" {
		if err := checkBinDir(override); err != nil {
			return "", err
		}
		return override, nil
	}
	dirs, err := filepath.Glob(glob)
	if err != nil {
		return "", fmt.Errorf("glob %s: %w", glob, err)
	}
	// Newest first: .../15/bin before .../9.6/bin.
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(versionOf(b), versionOf(a))
	})
	for _, d := range dirs {
		if checkBinDir(d) == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no %s in %s: %w", strings.Join(serverBinaries[:], " and "), glob, ErrNotInstalled)
}

// checkBinDir reports which server binaries dir lacks.
func checkBinDir(dir string) error {
	var missing []string
	for _, name := range serverBinaries {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: %w", strings.Join(missing, ", "), ErrNotInstalled)
	}
	return nil
}

// versionOf returns the version directory of a bin dir:
// "/usr/lib/postgresql/15/bin" → "15".
func versionOf(binDir string) string { return filepath.Base(filepath.Dir(binDir)) }

// compareVersions compares dotted numeric versions ("9.6" < "15");
// non-numeric parts sort as 0.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
