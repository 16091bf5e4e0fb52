// SPDX-License-Identifier: Apache-2.0

// tokenCache: verified tokens by their SHA-256, so that a connection's
// every request does not verify an RSA signature again.

package identity

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenCache is bounded in entries and in time; it keeps hashes, never
// tokens.
type tokenCache struct {
	size int
	ttl  time.Duration

	mu sync.Mutex
	m  map[[sha256.Size]byte]cached // guarded by mu
}

type cached struct {
	id    *Identity
	until time.Time
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	return &tokenCache{size: size, ttl: ttl, m: make(map[[sha256.Size]byte]cached)}
}

// get returns the identity cached under key, nil if none or too old.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) *Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil
	}
	if !now.Before(e.until) {
		delete(c.m, key)
		return nil
	}
	return e.id
}

// put caches id until ttl from now or its expiry, whichever is first.
// When full it drops expired entries, then arbitrary ones.
func (c *tokenCache) put(key [sha256.Size]byte, id *Identity, now time.Time) {
	until := now.Add(c.ttl)
	if id.Expiry.Before(until) {
		until = id.Expiry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.size {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.size {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = cached{id: id, until: until}
}
