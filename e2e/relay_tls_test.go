//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/relay"
)

// testPKI is a CA and a server certificate for "localhost" it signed,
// written where the server's account can read them.
type testPKI struct {
	caFile, certFile, keyFile string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir, err := os.MkdirTemp("", "ppg-relay-pki-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ppg test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "server.crt"), keyFile: filepath.Join(dir, "server.key")}
	write := func(path, kind string, der []byte, mode os.FileMode) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caFile, "CERTIFICATE", caDER, 0o644)
	write(p.certFile, "CERTIFICATE", leafDER, 0o644)
	write(p.keyFile, "EC PRIVATE KEY", keyDER, 0o600)
	// The server refuses a key others can read; it runs as postgres when
	// the tests run as root.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		if err := os.Chown(p.keyFile, uid, -1); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// sniProxy forwards connections to a Postgres server and records the
// server name each client's TLS ClientHello carries ("" for none).
type sniProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	names    []string
}

func startSNIProxy(t *testing.T, upstream string) *sniProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &sniProxy{ln: ln, upstream: upstream}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return p
}

// relay passes the SSLRequest and its answer, then reads the first TLS
// record (the ClientHello), records its server name, and copies the rest.
func (p *sniProxy) relay(c net.Conn) {
	defer func() { _ = c.Close() }()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer func() { _ = up.Close() }()
	req := make([]byte, 8)
	answer := make([]byte, 1)
	if _, err := io.ReadFull(c, req); err != nil || binary.BigEndian.Uint32(req[4:]) != 80877103 {
		return
	}
	if _, err := up.Write(req); err != nil {
		return
	}
	if _, err := io.ReadFull(up, answer); err != nil {
		return
	}
	if _, err := c.Write(answer); err != nil || answer[0] != 'S' {
		return
	}
	header := make([]byte, 5)
	if _, err := io.ReadFull(c, header); err != nil {
		return
	}
	record := make([]byte, 5+int(binary.BigEndian.Uint16(header[3:])))
	copy(record, header)
	if _, err := io.ReadFull(c, record[5:]); err != nil {
		return
	}
	p.record(clientHelloServerName(record))
	if _, err := up.Write(record); err != nil {
		return
	}
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
}

func (p *sniProxy) record(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names = append(p.names, name)
}

func (p *sniProxy) serverNames() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.names...)
}

// clientHelloServerName lets crypto/tls parse a ClientHello record and
// returns its server name.
func clientHelloServerName(record []byte) string {
	var name string
	errSeen := errors.New("seen")
	conn := tls.Server(&recordConn{r: bytes.NewReader(record)}, &tls.Config{
		GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			name = hi.ServerName
			return nil, errSeen
		},
	})
	_ = conn.Handshake()
	return name
}

// recordConn is a net.Conn that reads a fixed record and drops writes.
type recordConn struct {
	net.Conn
	r io.Reader
}

func (c *recordConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *recordConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *recordConn) Close() error                     { return nil }
func (c *recordConn) SetDeadline(time.Time) error      { return nil }
func (c *recordConn) SetReadDeadline(time.Time) error  { return nil }
func (c *recordConn) SetWriteDeadline(time.Time) error { return nil }

// TestRelayTLSUpstream: the relay opens TLS to a server with a
// certificate, per the URL's sslmode, with SNI carrying the URL's host
// name; the client (psql with sslmode=prefer) talks plain to the relay.
// verify-full refuses a host name the certificate does not name, with a
// typed error, and the client gets a Postgres error.
func TestRelayTLSUpstream(t *testing.T) {
	pki := newTestPKI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := pgserver.Start(ctx, pgserver.Options{Version: 17, Settings: map[string]string{
		"ssl": "on", "ssl_cert_file": pki.certFile, "ssl_key_file": pki.keyFile}})
	if errors.Is(err, pgserver.ErrNotFound) {
		need(t, "PPG_PG17_BIN")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	proxy := startSNIProxy(t, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	_, port, _ := net.SplitHostPort(proxy.ln.Addr().String())
	const sql = "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

	for _, query := range []string{"sslmode=require", "sslmode=verify-full&sslrootcert=" + pki.caFile} {
		t.Run(query, func(t *testing.T) {
			before := len(proxy.serverNames())
			r := startRelay(t, "postgres://localhost:"+port+"/postgres?"+query, relay.Config{})
			out, err := psqlURL(t, fmt.Sprintf("postgres://%s:%s@%s/postgres", s.User, s.Password, r.Addr()), sql)
			if err != nil {
				t.Fatalf("psql through the relay: %v\n%s", err, out)
			}
			if !strings.HasPrefix(out, "t|TLSv1.3\n") || strings.Contains(out, "SSL connection (protocol") {
				t.Errorf("want TLS between the relay and the server, none between psql and the relay:\n%s", out)
			}
			if names := proxy.serverNames()[before:]; len(names) != 1 || names[0] != "localhost" {
				t.Errorf("server names sent: %q, want [localhost]", names)
			}
		})
	}

	// verify-ca checks the chain, not the name: an address the certificate
	// does not name passes, without SNI (none is sent to an address).
	t.Run("verify-ca to an address", func(t *testing.T) {
		before := len(proxy.serverNames())
		r := startRelay(t, "postgres://127.0.0.1:"+port+"/postgres?sslmode=verify-ca&sslrootcert="+pki.caFile, relay.Config{})
		out, err := psqlURL(t, fmt.Sprintf("postgres://%s:%s@%s/postgres", s.User, s.Password, r.Addr()), sql)
		if err != nil || !strings.HasPrefix(out, "t|TLSv1.3\n") {
			t.Fatalf("psql through a verify-ca relay: %v\n%s", err, out)
		}
		if names := proxy.serverNames()[before:]; len(names) != 1 || names[0] != "" {
			t.Errorf("server names sent to an IP address: %q, want none", names)
		}
	})

	t.Run("verify-full against the wrong name", func(t *testing.T) {
		before := len(proxy.serverNames())
		r := startRelay(t, "postgres://127.0.0.1:"+port+"/postgres?sslmode=verify-full&sslrootcert="+pki.caFile, relay.Config{})
		out, err := psqlURL(t, fmt.Sprintf("postgres://%s:%s@%s/postgres", s.User, s.Password, r.Addr()), sql)
		if err == nil || !strings.Contains(out, "could not connect to the server through ppg's relay") {
			t.Fatalf("psql through a relay that cannot verify the server: %v\n%s", err, out)
		}
		waitFor(t, 30*time.Second, "the relay's error", func() bool { return r.Err() != nil })
		var up *relay.UpstreamError
		var verr *tls.CertificateVerificationError
		if !errors.As(r.Err(), &up) || !errors.As(r.Err(), &verr) {
			t.Fatalf("relay error %v, want an UpstreamError from the certificate check", r.Err())
		}
		if names := proxy.serverNames()[before:]; len(names) != 1 || names[0] != "" {
			t.Errorf("server names sent to an IP address: %q, want none", names)
		}
	})
}

// TestRelayUnixSocket: the relay listens on a Unix socket in a private
// folder, as the dump step would run it, and psql reaches the server
// through it with host=FOLDER port=5432.
func TestRelayUnixSocket(t *testing.T) {
	s := startServer(t, 17)
	dial, err := relay.DialURL("postgres://" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) + "/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ppg-relay-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	r, err := relay.Listen("unix", filepath.Join(dir, ".s.PGSQL.5432"), relay.Config{Dial: dial, DumpMajor: 17})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the socket's folder: %v %v, want mode 0700", fi.Mode(), err)
	}
	out, err := psqlURL(t, fmt.Sprintf("postgres://%s:%s@/postgres?host=%s&port=5432", s.User, s.Password, dir), "SELECT 'through the socket'")
	if err != nil || !strings.HasPrefix(out, "through the socket\n") {
		t.Fatalf("psql through the relay's socket: %v\n%s", err, out)
	}
}
