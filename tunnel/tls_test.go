package tunnel

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

func TestLocalTLSCertificate(t *testing.T) {
	cfg, err := localTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Certificates) != 1 || len(cfg.Certificates[0].Certificate) != 1 {
		t.Fatalf("want one certificate, got %d", len(cfg.Certificates))
	}
	cert, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("public key %T, want ECDSA P-256", cert.PublicKey)
	}
	// Trusted as its own root, it is valid for the loopback names and no
	// other: what verify-full would check if a client could trust it.
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, name := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("not valid for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "db.prisma.io", Roots: roots}); err == nil {
		t.Error("valid for db.prisma.io")
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "localhost"}); err == nil {
		t.Error("a self-signed certificate verifies against the system roots")
	}
	if time.Until(cert.NotBefore) > 0 || time.Until(cert.NotAfter) < 300*24*time.Hour {
		t.Errorf("validity %s to %s does not cover a long-running tunnel", cert.NotBefore, cert.NotAfter)
	}
	// Ephemeral: every tunnel makes its own key.
	other, err := localTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.Certificates[0].Certificate[0], cfg.Certificates[0].Certificate[0]) {
		t.Error("two tunnels share a certificate")
	}
}

func TestNegotiateWithUpgrade(t *testing.T) {
	startup := startupPacket("user", "u", "database", "postgres")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		plain   []byte // what the client sends before TLS
		secured []byte // what it sends inside TLS
		answers string
		inside  string // answers inside TLS
		prefix  []byte // what upgrade must be given; nil: not called
		wantErr string
	}{
		{name: "ssl", plain: request(sslRequestCode), secured: startup, answers: "S", prefix: []byte{}},
		{name: "gss then ssl", plain: cat(request(gssencRequestCode), request(sslRequestCode)), secured: startup, answers: "NS", prefix: []byte{}},
		{name: "no request", plain: startup, prefix: nil},
		{name: "direct TLS", plain: []byte{0x16, 0x03, 0x01, 0x02}, secured: startup, prefix: []byte{0x16, 0x03, 0x01, 0x02}},
		{name: "gss inside TLS", plain: request(sslRequestCode), secured: cat(request(gssencRequestCode), startup), answers: "S", inside: "N", prefix: []byte{}},
		{name: "ssl inside TLS", plain: request(sslRequestCode), secured: cat(request(sslRequestCode), startup), answers: "S", prefix: []byte{}, wantErr: "TLS inside TLS"},
		{name: "direct TLS inside TLS", plain: request(sslRequestCode), secured: []byte{0x16, 0x03, 0x01, 0x02}, answers: "S", prefix: []byte{}, wantErr: "sslnegotiation=direct"},
	}
	for _, tt := range tests {
		plain := &rw{Reader: bytes.NewReader(tt.plain)}
		secured := &rw{Reader: bytes.NewReader(tt.secured)}
		var gotPrefix []byte
		upgrade := func(prefix []byte) (io.ReadWriter, error) {
			gotPrefix = append([]byte{}, prefix...)
			return secured, nil
		}
		conn, got, err := negotiate(plain, upgrade)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, startup) {
			t.Errorf("%s: negotiate() = %q, %v; want the startup packet", tt.name, got, err)
		}
		if plain.out.String() != tt.answers || secured.out.String() != tt.inside {
			t.Errorf("%s: answered %q in plain text and %q inside TLS, want %q and %q", tt.name, plain.out.String(), secured.out.String(), tt.answers, tt.inside)
		}
		if (tt.prefix == nil) != (gotPrefix == nil) || !bytes.Equal(gotPrefix, tt.prefix) {
			t.Errorf("%s: upgrade given %v, want %v", tt.name, gotPrefix, tt.prefix)
		}
		if want := io.ReadWriter(secured); tt.prefix == nil {
			if conn != plain {
				t.Errorf("%s: negotiate returned another connection", tt.name)
			}
		} else if conn != want {
			t.Errorf("%s: negotiate did not return the TLS connection", tt.name)
		}
	}
}

// postgres is a gateway session that plays a minimal PostgreSQL server:
// it accepts the startup packet without a password and answers each simple
// query with one row, "user=<startup user> query=<the query>".
func (g *fakeGateway) postgres(ctx context.Context, ws *websocket.Conn) {
	nc := websocket.NetConn(ctx, ws, websocket.MessageBinary)
	defer func() { _ = nc.Close() }()
	be := pgproto3.NewBackend(nc, nc)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return
	}
	sm, ok := msg.(*pgproto3.StartupMessage)
	if !ok {
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	for k, v := range map[string]string{"server_version": "17.0", "client_encoding": "UTF8", "standard_conforming_strings": "on"} {
		be.Send(&pgproto3.ParameterStatus{Name: k, Value: v})
	}
	be.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 1}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("answer"), DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1}}})
			be.Send(&pgproto3.DataRow{Values: [][]byte{fmt.Appendf(nil, "user=%s query=%s", sm.Parameters["user"], m.String)}})
			be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if be.Flush() != nil {
				return
			}
		case *pgproto3.Terminate:
			return
		default:
			be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "0A000", Message: fmt.Sprintf("%T not supported", msg)})
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if be.Flush() != nil {
				return
			}
		}
	}
}

// pgxQuery connects pgx to the tunnel with extra connection settings, runs
// one simple query and reports whether the client's connection was TLS.
func pgxQuery(t *testing.T, tun *Tunnel, settings string) (answer string, overTLS bool, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=postgres %s", tun.Port(), settings))
	if err != nil {
		return "", false, err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, overTLS = conn.PgConn().Conn().(*tls.Conn)
	res, err := conn.PgConn().Exec(ctx, "select 1").ReadAll()
	if err != nil {
		return "", overTLS, err
	}
	if len(res) != 1 || len(res[0].Rows) != 1 {
		return "", overTLS, fmt.Errorf("got %d results", len(res))
	}
	return string(res[0].Rows[0][0]), overTLS, nil
}

func TestPgxThroughTunnelWithLocalTLS(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.postgres
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url()})
	const want = "user=alice query=select 1"
	for _, tt := range []struct {
		settings string
		tls      bool
	}{
		{"sslmode=require", true},
		{"sslmode=prefer", true},
		{"sslmode=require sslnegotiation=direct", true},
		{"sslmode=disable", false},
	} {
		got, overTLS, err := pgxQuery(t, tun, tt.settings)
		if err != nil || got != want || overTLS != tt.tls {
			t.Errorf("%s: %q, TLS %v, %v; want %q, TLS %v", tt.settings, got, overTLS, err, want, tt.tls)
		}
	}
	// The certificate is nobody's: a client that verifies refuses it.
	for _, mode := range []string{"verify-ca", "verify-full"} {
		_, _, err := pgxQuery(t, tun, "sslmode="+mode)
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("sslmode=%s: err = %v, want a certificate error", mode, err)
		}
	}
}

func TestPgxThroughTunnelWithoutLocalTLS(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.postgres
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url(), NoLocalTLS: true})
	for _, settings := range []string{"sslmode=prefer", "sslmode=disable"} {
		got, overTLS, err := pgxQuery(t, tun, settings)
		if err != nil || got != "user=alice query=select 1" || overTLS {
			t.Errorf("%s: %q, TLS %v, %v; want the answer in plain text", settings, got, overTLS, err)
		}
	}
	if _, _, err := pgxQuery(t, tun, "sslmode=require"); err == nil || !strings.Contains(err.Error(), "refused TLS") {
		t.Errorf("sslmode=require without local TLS: err = %v, want the server to refuse TLS", err)
	}
}

func TestTunnelDropsFailedTLSHandshake(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.postgres
	var logs bytes.Buffer
	logCh := make(chan string, 10)
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url(), Logf: func(f string, a ...any) { logCh <- fmt.Sprintf(f, a...) }})
	c := dialTunnel(t, tun)
	write(t, c, request(sslRequestCode))
	if got := readN(t, c, 1); got[0] != 'S' {
		t.Fatalf("answer to SSLRequest = %q, want S", got)
	}
	// Plain text where a ClientHello belongs.
	write(t, c, startupPacket("user", "x"))
	// The tunnel answers with a TLS alert, if anything, and hangs up.
	if _, err := io.ReadAll(c); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the tunnel keeps a connection whose TLS handshake failed")
		}
	}
	for done := false; !done; {
		select {
		case line := <-logCh:
			logs.WriteString(line + "\n")
			done = strings.HasSuffix(line, " closed")
		case <-time.After(10 * time.Second):
			t.Fatalf("no closing log line:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "TLS handshake with the client") {
		t.Errorf("log lacks the failed handshake:\n%s", logs.String())
	}
	if n := g.sessions.Load(); n != 0 {
		t.Errorf("the gateway saw %d sessions for a client that failed TLS", n)
	}
}

// dialClient connects a client to the tunnel, with TLS (as sslmode=require
// does: encrypted, not verified) or without, and sends a startup packet.
func dialClient(b *testing.B, tun *Tunnel, useTLS bool) net.Conn {
	b.Helper()
	c, err := net.Dial("tcp", tun.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if useTLS {
		if _, err := c.Write(request(sslRequestCode)); err != nil {
			b.Fatal(err)
		}
		answer := make([]byte, 1)
		if _, err := io.ReadFull(c, answer); err != nil || answer[0] != 'S' {
			b.Fatalf("answer %q, %v", answer, err)
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			b.Fatal(err)
		}
		c = tc
	}
	if _, err := c.Write(startupPacket("user", "bench")); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkTunnelThroughput measures bytes per second through a loopback
// tunnel, from the gateway to the client (pg_dump's direction) and back
// (pg_restore's), with and without local TLS.
func BenchmarkTunnelThroughput(b *testing.B) {
	msg := bytes.Repeat([]byte("0123456789abcdef"), chunkSize/16)
	for _, dir := range []string{"download", "upload"} {
		for _, useTLS := range []bool{false, true} {
			name := dir + "/plain"
			if useTLS {
				name = dir + "/tls"
			}
			b.Run(name, func(b *testing.B) {
				var target int64
				g := newFakeGateway(b, func(ctx context.Context, ws *websocket.Conn) {
					if _, _, err := ws.Read(ctx); err != nil { // the startup packet
						return
					}
					if dir == "download" {
						for ws.Write(ctx, websocket.MessageBinary, msg) == nil {
						}
						return
					}
					var got int64
					for got < target {
						_, r, err := ws.Reader(ctx)
						if err != nil {
							return
						}
						n, _ := io.Copy(io.Discard, r)
						got += n
					}
					_ = ws.Write(ctx, websocket.MessageBinary, []byte("done"))
					_, _, _ = ws.Read(ctx)
				})
				tun := startTunnel(b, Config{Key: testKey, Endpoint: g.url(), NoLocalTLS: !useTLS})
				target = int64(b.N) * int64(len(msg))
				c := dialClient(b, tun, useTLS)
				b.SetBytes(int64(len(msg)))
				b.ResetTimer()
				if dir == "download" {
					if _, err := io.CopyN(io.Discard, c, target); err != nil {
						b.Fatal(err)
					}
				} else {
					for range b.N {
						if _, err := c.Write(msg); err != nil {
							b.Fatal(err)
						}
					}
					done := make([]byte, 4)
					if _, err := io.ReadFull(c, done); err != nil || string(done) != "done" {
						b.Fatalf("gateway answered %q, %v", done, err)
					}
				}
				b.StopTimer()
			})
		}
	}
}

// BenchmarkLocalTLSConfig measures what local TLS adds to Start.
func BenchmarkLocalTLSConfig(b *testing.B) {
	for range b.N {
		if _, err := localTLSConfig(); err != nil {
			b.Fatal(err)
		}
	}
}
