// SPDX-License-Identifier: Apache-2.0

// PolicyWatcher: the node's copy of the policy — watched, validated,
// applied, cached.

package controlclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/interlockhq/interlock/l7proxy/policy"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Policy is a bundle the node enforces.
type Policy struct {
	// Version and SHA256 identify the bundle at the control plane.
	Version uint64
	SHA256  []byte
	// Bundle is the compiled policy; it is immutable.
	Bundle *policy.Bundle
	// Source is the bundle as the control plane sent it. Do not modify.
	Source *interlockv1.PolicyBundle
	// Cached says it came from the disk cache, not from the control plane
	// in this process's life.
	Cached bool
}

// PolicyOptions configure a PolicyWatcher.
type PolicyOptions struct {
	// OnBundle is called with every bundle the node is to enforce: first
	// the cached one (from NewPolicyWatcher, when there is one), then each
	// newer bundle that loads, in version order, never concurrently. It
	// must not block for long. Required.
	OnBundle func(Policy)
	// CacheFile keeps the last good bundle (e.g. StateDir/policy.bundle);
	// "" keeps none.
	CacheFile string
	// Load are the policy engine's options.
	Load policy.Options
	// Logger receives refused bundles and stream failures; nil discards.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reopening a broken
	// stream (defaults DefaultMinBackoff, DefaultMaxBackoff).
	MinBackoff, MaxBackoff time.Duration
}

// PolicyWatcher keeps the node's policy current. Its methods are safe for
// concurrent use; Run must run at most once at a time.
type PolicyWatcher struct {
	client interlockv1.PolicyServiceClient
	opts   PolicyOptions
	log    *slog.Logger

	mu      sync.Mutex // guards cur; held while OnBundle runs
	cur     Policy
	refused uint64 // last version that failed to load; guarded by mu
}

// NewPolicyWatcher returns a watcher on cc (a Client's Conn). When
// opts.CacheFile holds a good bundle, the watcher hands it to OnBundle
// before returning, so the node enforces its last policy before it has
// reached the control plane. A cache that is missing or does not load is
// logged and ignored.
func NewPolicyWatcher(cc grpc.ClientConnInterface, opts PolicyOptions) (*PolicyWatcher, error) {
	if opts.OnBundle == nil {
		return nil, fmt.Errorf("controlclient: PolicyOptions.OnBundle is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &PolicyWatcher{client: interlockv1.NewPolicyServiceClient(cc), opts: opts, log: log}
	if opts.CacheFile != "" {
		src, err := readPolicyCache(opts.CacheFile)
		switch {
		case err != nil:
			log.Warn("policy cache ignored", "file", opts.CacheFile, "err", err)
		case src != nil:
			if p, err := w.compile(src); err != nil {
				log.Error("cached policy bundle does not load; ignored", "file", opts.CacheFile, "version", src.GetVersion(), "err", err)
			} else {
				p.Cached = true
				w.mu.Lock()
				w.cur = p
				opts.OnBundle(p)
				w.mu.Unlock()
				log.Info("enforcing cached policy bundle", "version", p.Version)
			}
		}
	}
	return w, nil
}

// Current returns the bundle the node enforces, and false when it has none.
func (w *PolicyWatcher) Current() (Policy, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur, w.cur.Bundle != nil
}

// Version returns the version of the bundle the node enforces (0: none).
func (w *PolicyWatcher) Version() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur.Version
}

// Run watches the control plane for bundles until ctx ends, reopening the
// stream with backoff when it breaks, and returns ctx's error. Each Watch
// reports the version the node enforces.
func (w *PolicyWatcher) Run(ctx context.Context) error {
	return keepOpen(ctx, w.log, "policy watch", w.opts.MinBackoff, w.opts.MaxBackoff, w.watch,
		func() []any { return []any{"version", w.Version()} })
}

// watch runs one Watch stream; got says whether it delivered anything.
func (w *PolicyWatcher) watch(ctx context.Context) (got bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := w.client.Watch(ctx, &interlockv1.WatchPolicyRequest{HaveVersion: w.Version()}, grpc.WaitForReady(true))
	if err != nil {
		return false, fmt.Errorf("controlclient: policy watch: %w", err)
	}
	return receive(stream, "policy watch", w.receive)
}

// receive applies a bundle from the control plane if it is newer and
// loads; otherwise the node keeps what it enforces.
func (w *PolicyWatcher) receive(b *interlockv1.PolicyBundle) {
	w.mu.Lock()
	stale := b.GetVersion() <= w.cur.Version
	again := b.GetVersion() == w.refused
	w.mu.Unlock()
	if stale {
		return
	}
	p, err := w.compile(b)
	if err != nil {
		if !again {
			w.log.Error("policy bundle refused; keeping the previous one", "version", b.GetVersion(), "enforcing", w.Version(), "err", err)
		}
		w.mu.Lock()
		w.refused = b.GetVersion()
		w.mu.Unlock()
		return
	}
	w.mu.Lock()
	if p.Version <= w.cur.Version { // cannot happen: one receiver at a time
		w.mu.Unlock()
		return
	}
	w.cur = p
	w.opts.OnBundle(p)
	w.mu.Unlock()
	w.log.Info("policy bundle applied", "version", p.Version, "by", b.GetCreatedBy())
	if w.opts.CacheFile != "" {
		if err := writePolicyCache(w.opts.CacheFile, b); err != nil {
			w.log.Error("policy cache not written; a restart without the control plane would enforce an older bundle", "err", err)
		}
	}
}

// compile checks a bundle's digest and loads it.
func (w *PolicyWatcher) compile(b *interlockv1.PolicyBundle) (Policy, error) {
	if b.GetVersion() == 0 {
		return Policy{}, fmt.Errorf("bundle has no version")
	}
	if sum := BundleDigest(b.GetDocuments()); !bytes.Equal(sum, b.GetSha256()) {
		return Policy{}, fmt.Errorf("bundle %d: sha256 does not match its documents", b.GetVersion())
	}
	docs := make([]policy.Document, len(b.GetDocuments()))
	for i, d := range b.GetDocuments() {
		docs[i] = policy.Document{Name: d.GetName(), YAML: d.GetYaml()}
	}
	pb, err := policy.Load(docs, w.opts.Load)
	if err != nil {
		return Policy{}, err
	}
	return Policy{Version: b.GetVersion(), SHA256: b.GetSha256(), Bundle: pb, Source: b}, nil
}

// BundleDigest is a bundle's sha256 as PolicyBundle.sha256 defines it: for
// each document, in order, its name, NUL, its YAML, NUL.
func BundleDigest(docs []*interlockv1.PolicyDocument) []byte {
	h := sha256.New()
	for _, d := range docs {
		h.Write([]byte(d.GetName()))
		h.Write([]byte{0})
		h.Write(d.GetYaml())
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}
