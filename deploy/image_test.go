// SPDX-License-Identifier: Apache-2.0

// The Dockerfile builds what the manifests run: the Go it builds with is
// go.mod's, it builds the interlock command, and its entrypoint is that
// binary, so a manifest's args start with an interlock subcommand.

package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestDockerfileBuildsWhatTheManifestsRun(t *testing.T) {
	df, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	var from, build, entry string
	sc := bufio.NewScanner(strings.NewReader(string(df)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "FROM ") && strings.Contains(line, "golang:"):
			from = line
		case strings.Contains(line, "./cmd/interlock"):
			build = line
		case strings.HasPrefix(line, "ENTRYPOINT "):
			entry = line
		}
	}
	if !strings.Contains(from, "golang:"+string(goVersion[1])+"-") {
		t.Errorf("the build stage is %q; go.mod wants Go %s", from, goVersion[1])
	}
	if !strings.Contains(build, "-o /out/interlock") {
		t.Errorf("the Dockerfile does not build ./cmd/interlock to /out/interlock: %q", build)
	}
	if entry != `ENTRYPOINT ["/usr/local/bin/interlock"]` || !strings.Contains(string(df), "COPY --from=build /out/interlock /usr/local/bin/interlock") {
		t.Errorf("the entrypoint is %q, not the interlock binary the build copies in", entry)
	}
}
