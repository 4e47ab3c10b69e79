package gateway

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every byte it reads with the same byte.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestDelayProxy(t *testing.T) {
	t.Parallel()
	const latency = 40 * time.Millisecond
	p, err := StartDelayProxy(echoServer(t), latency)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Close() }()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	// A round trip pays the latency twice (there and back).
	buf := make([]byte, 1)
	for range 3 {
		start := time.Now()
		if _, err := c.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if rtt := time.Since(start); rtt < 2*latency {
			t.Errorf("round trip %v, want at least %v", rtt, 2*latency)
		}
	}
	// A delay line, not a throttle: 8 MB in 64 KB chunks is not 128 round
	// trips (10 s); it arrives intact in about one.
	want := bytes.Repeat([]byte("0123456789abcdef"), 512<<10)
	start := time.Now()
	go func() { _, _ = c.Write(want) }()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the bytes came back changed")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("8 MB took %v through a %v delay line; it throttles", d, latency)
	}
}
