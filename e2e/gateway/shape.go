package gateway

import (
	"context"
	"sync"
	"time"
)

// delayLine is a FIFO of chunks, each due at a time, holding at most
// about limit bytes: push blocks while it is full, which slows the reader
// down instead of buffering without bound.
type delayLine struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []delayed
	bytes  int
	limit  int
	closed bool // no more pushes; pop drains what is left
	failed bool // pushes and pops fail at once
}

// delayed is a chunk and when to deliver it.
type delayed struct {
	due  time.Time
	data []byte
}

func newDelayLine(limit int) *delayLine {
	l := &delayLine{limit: limit}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// push appends a chunk, waiting while the line is full. A chunk larger
// than the limit is accepted when the line is empty. It reports false if
// the line failed.
func (l *delayLine) push(data []byte, due time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.failed && l.bytes > 0 && l.bytes+len(data) > l.limit {
		l.cond.Wait()
	}
	if l.failed {
		return false
	}
	l.queue = append(l.queue, delayed{due: due, data: data})
	l.bytes += len(data)
	l.cond.Broadcast()
	return true
}

// pop removes the oldest chunk, waiting for one. It reports false once the
// line is closed and empty, or failed.
func (l *delayLine) pop() (delayed, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.failed && !l.closed && len(l.queue) == 0 {
		l.cond.Wait()
	}
	if l.failed || len(l.queue) == 0 {
		return delayed{}, false
	}
	c := l.queue[0]
	l.queue[0] = delayed{}
	l.queue = l.queue[1:]
	l.bytes -= len(c.data)
	l.cond.Broadcast()
	return c, true
}

// closeInput marks the end of the input: pop drains what is queued.
func (l *delayLine) closeInput() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.cond.Broadcast()
}

// fail drops what is queued and wakes everyone waiting.
func (l *delayLine) fail() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed = true
	l.queue = nil
	l.bytes = 0
	l.cond.Broadcast()
}

// tokenBucket caps a rate in bytes per second. It is used by one goroutine.
// A nil *tokenBucket does not limit.
type tokenBucket struct {
	rate   float64 // bytes per second
	burst  float64 // most credit saved up while idle
	tokens float64 // may go negative: a debt paid by waiting
	last   time.Time
}

// newTokenBucket returns a bucket for rate bytes per second, or nil for
// rate <= 0. It starts full, with 20 ms worth of credit.
func newTokenBucket(rate int64) *tokenBucket {
	if rate <= 0 {
		return nil
	}
	burst := max(float64(rate)/50, 1)
	return &tokenBucket{rate: float64(rate), burst: burst, tokens: burst, last: time.Now()}
}

// wait takes n bytes' worth of tokens, sleeping as long as the bucket is in
// debt, or until ctx ends.
func (b *tokenBucket) wait(ctx context.Context, n int) error {
	if b == nil {
		return nil
	}
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(-b.tokens / b.rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
