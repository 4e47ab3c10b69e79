package gateway

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBearerKey(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc123", "abc123", true},
		{"bearer abc123", "abc123", true},
		{"  Bearer   abc123  ", "abc123", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", false},
		{"Bearer a b", "", false},
		{"abc123", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerKey(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerKey(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRedactKey(t *testing.T) {
	for _, key := range []string{"", "a", "ab12", "ab12cd34ef56gh78", strings.Repeat("k", 300)} {
		got := redactKey(key)
		if key != "" && strings.Contains(got, key) {
			t.Errorf("redactKey(%q) = %q shows the whole key", key, got)
		}
		if len(got) > len("key ")+4+len("…") {
			t.Errorf("redactKey(%q) = %q is too long", key, got)
		}
	}
	if got := redactKey("ab12cd34ef56gh78"); got != "key ab12…" {
		t.Errorf("redactKey = %q, want %q", got, "key ab12…")
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	a, b := newRequestID(), newRequestID()
	if a == b || len(a) != 36 {
		t.Errorf("request ids %q and %q", a, b)
	}
}

func TestDelayLine(t *testing.T) {
	l := newDelayLine(10)
	now := time.Now()
	if !l.push([]byte("abcd"), now) || !l.push([]byte("efgh"), now) {
		t.Fatal("push failed")
	}
	pushed := make(chan bool, 1)
	go func() { pushed <- l.push([]byte("ijkl"), now) }() // over the limit: waits
	select {
	case <-pushed:
		t.Fatal("push past the limit did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	if c, ok := l.pop(); !ok || string(c.data) != "abcd" {
		t.Fatalf("pop = %q, %v", c.data, ok)
	}
	if !<-pushed {
		t.Fatal("waiting push failed")
	}
	l.closeInput()
	for _, want := range []string{"efgh", "ijkl"} {
		if c, ok := l.pop(); !ok || string(c.data) != want {
			t.Fatalf("pop = %q, %v; want %q", c.data, ok, want)
		}
	}
	if _, ok := l.pop(); ok {
		t.Fatal("pop after close and drain succeeded")
	}

	big := newDelayLine(4)
	if !big.push(make([]byte, 100), now) {
		t.Fatal("an oversized chunk into an empty line must be accepted")
	}
	go func() { pushed <- big.push([]byte("x"), now) }()
	big.fail()
	if <-pushed {
		t.Fatal("push into a failed line succeeded")
	}
	if _, ok := big.pop(); ok {
		t.Fatal("pop from a failed line succeeded")
	}
}

func TestTokenBucket(t *testing.T) {
	if err := (*tokenBucket)(nil).wait(context.Background(), 1<<30); err != nil {
		t.Fatalf("nil bucket: %v", err)
	}
	b := newTokenBucket(100_000) // 100 kB/s, 2 kB burst
	start := time.Now()
	for range 10 {
		if err := b.wait(context.Background(), 5_000); err != nil {
			t.Fatal(err)
		}
	}
	// 50 kB at 100 kB/s, less the 2 kB burst: about 480 ms.
	if d := time.Since(start); d < 400*time.Millisecond || d > 5*time.Second {
		t.Errorf("50 kB at 100 kB/s took %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.wait(ctx, 1_000_000); err == nil {
		t.Errorf("wait with a cancelled ctx and a big debt succeeded")
	}
}
