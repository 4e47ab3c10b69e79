package tunnel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// alpnPostgres is the ALPN protocol name of PostgreSQL (PostgreSQL 17),
// which a client that starts TLS directly requires the server to choose.
const alpnPostgres = "postgresql"

// localTLSConfig returns the server side of the local TLS that a tunnel
// offers a client asking for SSL: a self-signed ECDSA P-256 certificate for
// 127.0.0.1, ::1 and localhost, made in memory now and never written
// anywhere. No authority signs it, so it satisfies sslmode=require (which
// encrypts without verifying) but never verify-ca or verify-full. The
// connection to the gateway has TLS of its own; this only spares clients
// whose settings insist on SSL from failing.
func localTLSConfig() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate the local TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate the local TLS certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "ppg tunnel (localhost)"},
		// An hour back tolerates a client whose clock is a little behind.
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("generate the local TLS certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{alpnPostgres},
	}, nil
}

// prefixConn is a connection whose first reads return bytes already read
// from it: the start of a TLS record that arrived in place of a startup
// packet.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
