package relay

import "testing"

func TestCacheBudgetAndTake(t *testing.T) {
	c := newCache(10)
	a, b, d := c.add("a"), c.add("b"), c.add("d")
	if c.add("a") != nil {
		t.Fatal("a query added twice")
	}
	if !c.resolve(a, []byte("123456"), 'T', true) {
		t.Fatal("6 bytes of 10 not kept")
	}
	if c.resolve(b, []byte("12345"), 'T', true) {
		t.Fatal("11 bytes kept within a budget of 10")
	}
	if c.resolve(d, []byte("1"), 'E', false) {
		t.Fatal("a failed answer kept")
	}
	if now, peak := c.size(); now != 6 || peak != 6 {
		t.Fatalf("size %d, peak %d; want 6 and 6", now, peak)
	}
	e := c.take("a")
	if e == nil || !e.ok || string(e.data) != "123456" || e.status != 'T' {
		t.Fatalf("take a: %+v", e)
	}
	c.release(e)
	if c.take("a") != nil {
		t.Fatal("an entry taken twice")
	}
	if now, _ := c.size(); now != 0 {
		t.Fatalf("size after take: %d", now)
	}
	if e := c.take("b"); e == nil || e.ok {
		t.Fatalf("take b: %+v, want a dropped entry", e)
	}
	// Freed bytes are usable again.
	f := c.add("f")
	if !c.resolve(f, []byte("1234567890"), 'T', true) {
		t.Fatal("10 bytes not kept once the budget is free")
	}
}

// A pending entry taken by the client is resolved later; its bytes are
// released by the taker.
func TestCacheTakePending(t *testing.T) {
	c := newCache(100)
	e := c.add("q")
	taken := c.take("q")
	if taken != e {
		t.Fatal("pending entry not taken")
	}
	select {
	case <-e.done:
		t.Fatal("pending entry already done")
	default:
	}
	c.resolve(e, []byte("abc"), 'T', true)
	<-e.done
	c.release(e)
	if now, peak := c.size(); now != 0 || peak != 3 {
		t.Fatalf("size %d peak %d", now, peak)
	}
}

// Entries of an ended transaction are dropped, and those in flight are not
// kept when they arrive.
func TestCacheClear(t *testing.T) {
	c := newCache(100)
	done, pending := c.add("done"), c.add("pending")
	c.resolve(done, []byte("abc"), 'T', true)
	c.clear()
	if c.take("done") != nil || c.take("pending") != nil {
		t.Fatal("entries survived clear")
	}
	if c.resolve(pending, []byte("xyz"), 'T', true) {
		t.Fatal("an entry of the old transaction was kept")
	}
	if now, _ := c.size(); now != 0 {
		t.Fatalf("size %d after clear", now)
	}
	if e := c.add("done"); e == nil {
		t.Fatal("the same query cannot be prefetched in the new transaction")
	}
}

// An entry added within a share of the budget is kept only while the
// cache, with it, holds no more than that share.
func TestCacheWithin(t *testing.T) {
	c := newCache(10)
	a, b := c.addWithin("a", 4), c.addWithin("b", 4)
	if !c.resolve(a, []byte("123"), 'T', true) {
		t.Fatal("3 bytes within 4 not kept")
	}
	if c.resolve(b, []byte("12"), 'T', true) {
		t.Error("5 bytes kept within 4")
	}
	if d := c.addWithin("d", 0); !c.resolve(d, []byte("1234567"), 'T', true) {
		t.Error("10 bytes not kept within the budget")
	}
}
