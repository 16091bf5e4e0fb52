// SPDX-License-Identifier: Apache-2.0

// Every command line in the manifests and units against the binary's
// command tree: each flag must exist, and the values must parse.

package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/interlockhq/interlock/internal/cli"
)

// checkCommandLine checks args (without the program name) against the
// command tree: leading words name the command, then every --flag (always
// written --name=value, or --name for a boolean) must be one the command
// defines; what follows no flag is a positional argument.
func checkCommandLine(args []string) error {
	var path []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if _, err := cli.CommandFlags(append(path, args[0])...); err != nil {
			break
		}
		path, args = append(path, args[0]), args[1:]
	}
	if len(path) == 0 {
		return fmt.Errorf("%q: no interlock command", args)
	}
	flags, err := cli.CommandFlags(path...)
	if err != nil {
		return err
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if !strings.HasPrefix(a, "--") {
			return fmt.Errorf("interlock %s: write %q as --name=value", strings.Join(path, " "), a)
		}
		name, _, hasValue := strings.Cut(a[2:], "=")
		takesValue, ok := flags[name]
		switch {
		case !ok:
			return fmt.Errorf("interlock %s has no flag --%s", strings.Join(path, " "), name)
		case takesValue && !hasValue:
			return fmt.Errorf("interlock %s: write --%s=VALUE", strings.Join(path, " "), name)
		}
	}
	return nil
}

func TestCheckCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"node", "--kube-node=x", "--pods=ns"}, true},
		{[]string{"node", "--detach-on-exit"}, true},
		{[]string{"node", "--log-format=json"}, true},
		{[]string{"node", "--kube-nodes=x"}, false},
		{[]string{"node", "--pods", "ns"}, false},
		{[]string{"control", "token", "--ttl=1h"}, true},
		{[]string{"control", "--ttl=1h"}, false},
		{[]string{"policy", "validate", "/etc/p.yaml"}, true},
		{[]string{"nodes", "--x=1"}, false},
	} {
		if err := checkCommandLine(tc.args); (err == nil) != tc.ok {
			t.Errorf("%q: got %v, want ok %v", tc.args, err, tc.ok)
		}
	}
}

// interlockContainers returns the containers running the interlock image
// in every kustomization, by "dir: object/container".
func interlockContainers(t *testing.T) map[string]corev1.Container {
	out := map[string]corev1.Container{}
	for _, dir := range kustomizations {
		for _, o := range build(t, dir) {
			var ps corev1.PodSpec
			switch o := o.(type) {
			case *appsv1.DaemonSet:
				ps = o.Spec.Template.Spec
			case *appsv1.Deployment:
				ps = o.Spec.Template.Spec
			default:
				continue
			}
			for _, c := range append(ps.InitContainers, ps.Containers...) {
				if strings.HasPrefix(c.Image, "ghcr.io/interlockhq/interlock:") {
					out[dir+": "+meta(o).Name+"/"+c.Name] = c
				}
			}
		}
	}
	return out
}

func TestManifestFlagsExist(t *testing.T) {
	cs := interlockContainers(t)
	if len(cs) == 0 {
		t.Fatal("no interlock containers")
	}
	for where, c := range cs {
		if len(c.Command) > 0 {
			t.Errorf("%s: command %q overrides the image's entry point", where, c.Command)
		}
		if err := checkCommandLine(c.Args); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	}
}

// expand replaces $(VAR) in args as the kubelet does.
func expand(args []string, env map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range env {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		out[i] = a
	}
	return out
}

// TestNodeArgsParse runs the DaemonSet's command line through the real
// `interlock node` up to where it needs the cluster: every value parses
// (durations, selectors, ports) and the first error is the missing API
// server, not a usage error.
func TestNodeArgsParse(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	for where, c := range interlockContainers(t) {
		if c.Name != "node" {
			continue
		}
		args := expand(c.Args, map[string]string{"NODE_NAME": "node-1", "HOST_IP": "127.0.0.1"})
		var out bytes.Buffer
		err := cli.Run(t.Context(), args, strings.NewReader(""), &out, &out)
		var usage *cli.UsageError
		if errors.As(err, &usage) || err == nil || !strings.Contains(err.Error(), "not in a cluster") {
			t.Errorf("%s: interlock %q: got %v, want the not-in-a-cluster error", where, args, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runUntil runs the command line until stdout contains want, then stops it.
func runUntil(t *testing.T, args []string, want string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- cli.Run(ctx, args, strings.NewReader(""), &out, &out) }()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		select {
		case err := <-done:
			t.Fatalf("interlock %q stopped: %v\n%s", args, err, out.String())
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("interlock %q: no %q in 30s:\n%s", args, want, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("interlock %q: stopping: %v", args, err)
	}
}

// TestControlArgsStart starts the control plane with the Deployment's
// command line, its listen address and data directory moved to this test's.
func TestControlArgsStart(t *testing.T) {
	for where, c := range interlockContainers(t) {
		if c.Name != "control" {
			continue
		}
		t.Run(where, func(t *testing.T) {
			var args []string
			for _, a := range c.Args {
				switch {
				case strings.HasPrefix(a, "--listen="):
					a = "--listen=127.0.0.1:0"
				case strings.HasPrefix(a, "--data-dir="):
					a = "--data-dir=" + t.TempDir()
				}
				args = append(args, a)
			}
			runUntil(t, args, "control plane listening on 127.0.0.1:")
		})
	}
}

// TestPolicyCheckRuns runs the control plane's policy-check init container
// on the ConfigMap it mounts.
func TestPolicyCheckRuns(t *testing.T) {
	objs := build(t, "kubernetes/base")
	d := find[*appsv1.Deployment](t, objs, "interlock-control")
	ps := d.Spec.Template.Spec
	c := container(t, ps.InitContainers, "policy-check")
	dir := t.TempDir()
	var args []string
	for _, a := range c.Args {
		for _, m := range c.VolumeMounts {
			rel, ok := strings.CutPrefix(a, m.MountPath+"/")
			if !ok {
				continue
			}
			for _, v := range ps.Volumes {
				if v.Name == m.Name && v.ConfigMap != nil {
					cm := find[*corev1.ConfigMap](t, objs, v.ConfigMap.Name)
					a = filepath.Join(dir, rel)
					if err := os.WriteFile(a, []byte(cm.Data[rel]), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		args = append(args, a)
	}
	var out bytes.Buffer
	if err := cli.Run(t.Context(), args, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("interlock %q: %v\n%s", args, err, out.String())
	}
	if !strings.Contains(out.String(), ": ok") {
		t.Errorf("interlock %q printed %q", args, out.String())
	}
}
