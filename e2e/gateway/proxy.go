package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// DelayProxy is a TCP proxy that delays every chunk by a fixed latency in
// each direction, as a long link does: the direct-URL counterpart of
// Options.Latency, for benchmarks of direct connections. Each chunk is
// written Latency after it was read, so throughput is not capped by the
// round trip (up to maxInFlight bytes in flight per direction).
type DelayProxy struct {
	Latency time.Duration

	ln       net.Listener
	upstream string
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// StartDelayProxy listens on a free loopback port and forwards each
// connection to upstream (host:port) through delay lines.
func StartDelayProxy(upstream string, latency time.Duration) (*DelayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &DelayProxy{Latency: latency, ln: ln, upstream: upstream, ctx: ctx, cancel: cancel}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *DelayProxy) Addr() string { return p.ln.Addr().String() }

// Close stops listening, cuts every connection and waits for them.
func (p *DelayProxy) Close() error {
	p.cancel()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *DelayProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.relay(c)
		}()
	}
}

// relay joins client to a new upstream connection until either side ends.
func (p *DelayProxy) relay(client net.Conn) {
	defer func() { _ = client.Close() }()
	d := net.Dialer{Timeout: upstreamConnectTimeout}
	up, err := d.DialContext(p.ctx, "tcp", p.upstream)
	if err != nil {
		return
	}
	defer func() { _ = up.Close() }()
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		_ = client.Close()
		_ = up.Close()
	})
	defer stop()
	var wg sync.WaitGroup
	for _, dir := range [][2]net.Conn{{client, up}, {up, client}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel() // one direction's end ends both
			_ = p.pump(ctx, dir[0], dir[1])
		}()
	}
	wg.Wait()
}

// pump copies from src to dst through a delay line.
func (p *DelayProxy) pump(ctx context.Context, src io.Reader, dst io.Writer) error {
	line := newDelayLine(maxInFlight)
	stop := context.AfterFunc(ctx, line.fail)
	defer stop()
	werr := make(chan error, 1)
	go func() {
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for {
			c, ok := line.pop()
			if !ok {
				werr <- nil
				return
			}
			if d := time.Until(c.due); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					werr <- ctx.Err()
					return
				}
			}
			if _, err := dst.Write(c.data); err != nil {
				line.fail()
				werr <- err
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	var rerr error
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := make([]byte, n)
			copy(chunk, buf[:n])
			if !line.push(chunk, time.Now().Add(p.Latency)) {
				break
			}
		}
		if err != nil {
			rerr = err
			break
		}
	}
	line.closeInput()
	if err := <-werr; err != nil {
		return err
	}
	if errors.Is(rerr, io.EOF) {
		return nil
	}
	return rerr
}
