//go:build e2e

package gateway

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ppg-cli/ppg/e2e/pgserver"
)

// BenchmarkCopyOut streams about 256 MB of COPY output from the server
// directly and through the gateway, for comparing throughput.
func BenchmarkCopyOut(b *testing.B) {
	pg := pgserver.StartT(b, pgserver.DefaultVersion)
	gw := New(Options{})
	gw.AddDatabase(testKey, pg.URL("postgres"))
	url, err := gw.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := gw.Close(); err != nil {
			b.Errorf("close gateway: %v", err)
		}
	})
	e := &env{pg: pg, gw: gw, url: url}
	const sql = "copy (select repeat('x', 1023) from generate_series(1, 262144)) to stdout"
	const size = 262144 * 1024

	run := func(b *testing.B, connect func(ctx context.Context) (*pgconn.PgConn, error)) {
		ctx := context.Background()
		c, err := connect(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			if err := c.Close(ctx); err != nil {
				b.Errorf("close: %v", err)
			}
		}()
		b.SetBytes(size)
		b.ResetTimer()
		for range b.N {
			if _, err := c.CopyTo(ctx, io.Discard, sql); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		run(b, func(ctx context.Context) (*pgconn.PgConn, error) { return pgconn.Connect(ctx, pg.URL("postgres")) })
	})
	b.Run("gateway", func(b *testing.B) {
		run(b, func(ctx context.Context) (*pgconn.PgConn, error) { return e.connect(ctx, testKey, nil, nil) })
	})
}

// BenchmarkRawCopyOut is BenchmarkCopyOut with a client that only skips
// over the protocol messages, so the server and the gateway are what is
// measured.
func BenchmarkRawCopyOut(b *testing.B) {
	pg := pgserver.StartT(b, pgserver.DefaultVersion)
	gw := New(Options{})
	gw.AddDatabase(testKey, pg.URL("postgres"))
	url, err := gw.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := gw.Close(); err != nil {
			b.Errorf("close gateway: %v", err)
		}
	})
	const sql = "copy (select repeat('x', 1023) from generate_series(1, 262144)) to stdout"
	const size = 262144 * 1024
	q, _ := (&pgproto3.Query{String: sql}).Encode(nil)

	run := func(b *testing.B, conn net.Conn) {
		r := bufio.NewReaderSize(conn, 64<<10)
		b.SetBytes(size)
		b.ResetTimer()
		for range b.N {
			if _, err := conn.Write(q); err != nil {
				b.Fatal(err)
			}
			for {
				var head [5]byte
				if _, err := io.ReadFull(r, head[:]); err != nil {
					b.Fatal(err)
				}
				n := int(binary.BigEndian.Uint32(head[1:])) - 4
				if _, err := r.Discard(n); err != nil {
					b.Fatal(err)
				}
				if head[0] == 'Z' {
					break
				}
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		ctx := context.Background()
		c, err := pgconn.Connect(ctx, pg.URL("postgres"))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.SyncConn(ctx); err != nil {
			b.Fatal(err)
		}
		hc, err := c.Hijack()
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			if err := hc.Conn.Close(); err != nil {
				b.Errorf("close: %v", err)
			}
		}()
		run(b, hc.Conn)
	})
	b.Run("gateway", func(b *testing.B) {
		ctx := context.Background()
		ws, _, err := dialWS(ctx, url, testKey)
		if err != nil {
			b.Fatal(err)
		}
		nc := websocket.NetConn(ctx, ws, websocket.MessageBinary)
		defer func() {
			if err := nc.Close(); err != nil {
				b.Errorf("close: %v", err)
			}
		}()
		fe := pgproto3.NewFrontend(nc, nc)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "x"}})
		if err := fe.Flush(); err != nil {
			b.Fatal(err)
		}
		for {
			m, err := fe.Receive()
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				break
			}
		}
		run(b, nc)
	})
}
