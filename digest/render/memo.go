package render

import "sync"

// memo remembers results of pure text helpers. An issue goes to every
// subscriber with the same articles, so the excerpts and reading times of
// the first copy serve the other thousands; without it they are most of
// the rendering time (BenchmarkRender1000).
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

// memoCap bounds the memory: a few weeks of articles (excerpt keys hold a
// summary, a few hundred bytes); when it is reached the memo starts again.
const memoCap = 5000

func (c *memo[K, V]) get(k K, compute func() V) V {
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= memoCap {
		c.m = make(map[K]V)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}
