package relay

import "sync"

// entry is one prefetched query's response: every message up to, not
// including, its ReadyForQuery, encoded as the server sent it, and the
// transaction status of that ReadyForQuery.
type entry struct {
	done   chan struct{} // closed once resolved
	data   []byte        // the encoded messages, when ok
	status byte          // the ReadyForQuery status, when ok
	ok     bool          // usable: complete, no error, within the budget
	gen    uint64        // the cache's generation when added
	within int64         // kept only if the cache holds at most this with it (0: the budget)
}

// cache holds prefetched responses by exact query text, within a byte
// budget. An entry is taken at most once (pg_dump asks each object once):
// taking it frees its bytes.
type cache struct {
	mu      sync.Mutex
	entries map[string]*entry
	budget  int64
	bytes   int64
	peak    int64
	gen     uint64 // bumped by clear
}

func newCache(budget int64) *cache {
	return &cache{entries: make(map[string]*entry), budget: budget}
}

// add registers a pending entry for q; nil if q is already there.
func (c *cache) add(q string) *entry { return c.addWithin(q, 0) }

// addWithin is add for an entry kept only if the cache then holds at most
// within bytes (a smaller share of the budget; 0 means the budget).
func (c *cache) addWithin(q string, within int64) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.entries[q]; dup {
		return nil
	}
	if within <= 0 || within > c.budget {
		within = c.budget
	}
	e := &entry{done: make(chan struct{}), gen: c.gen, within: within}
	c.entries[q] = e
	return e
}

// resolve completes e with data, or fails it (data nil, or over the
// budget: the query then passes through when asked). It reports whether
// e holds the data.
func (c *cache) resolve(e *entry, data []byte, status byte, ok bool) bool {
	c.mu.Lock()
	if ok && (e.gen != c.gen || c.bytes+int64(len(data)) > e.within) {
		ok = false
	}
	if ok {
		e.data, e.status, e.ok = data, status, true
		c.bytes += int64(len(data))
		c.peak = max(c.peak, c.bytes)
	}
	c.mu.Unlock()
	close(e.done)
	return ok
}

// take removes and returns q's entry, pending or resolved; nil if none.
// Once it is resolved, the taker calls release to free its bytes.
func (c *cache) take(q string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[q]
	delete(c.entries, q)
	return e
}

// release frees the bytes of a taken, resolved entry.
func (c *cache) release(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.gen == c.gen {
		c.bytes -= int64(len(e.data))
	}
}

// clear drops every entry: they belong to a transaction that ended.
// Entries still in flight resolve as not kept.
func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = make(map[string]*entry)
	c.bytes = 0
	c.gen++
}

// size is the bytes held now and at the most.
func (c *cache) size() (now, peak int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, c.peak
}
