// Package sandbox runs a local stand-in for Prisma's side of a migration: an
// "EA" database (PostgreSQL 16) with a small sample application, an empty
// "GA" database (PostgreSQL 17), and a gateway emulator that routes API keys
// to them. It is how a newcomer tries ppg without a Prisma account, and what
// end-to-end tests build on.
package sandbox

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
)

//go:embed sample.sql
var sampleSQL string

// Options configures Start.
type Options struct {
	// GatewayAddr is where the gateway listens; empty means 127.0.0.1 on a
	// random port.
	GatewayAddr string
	// Logf receives the gateway's session log; nil discards it.
	Logf func(format string, args ...any)
	// EmptySource skips loading the sample data into the EA database.
	EmptySource bool
}

// Sandbox is a running EA database, GA database and gateway. Stop it when
// done.
type Sandbox struct {
	// EA is the PostgreSQL 16 server standing for the Early Access database.
	EA *pgserver.Server
	// GA is the empty PostgreSQL 17 server standing for the new database.
	GA *pgserver.Server
	// Gateway routes EAKey to EA and GAKey to GA.
	Gateway *gateway.Gateway
	// WSURL is the value of PPG_WS_URL that points ppg at the gateway.
	WSURL string
	// EAKey and GAKey are API keys the gateway accepts.
	EAKey, GAKey string
	// NoDatabaseKey is a key of an environment without a database (HTTP 410).
	NoDatabaseKey string
}

// Start starts both servers and the gateway and loads the sample data. On
// error, whatever was started has been stopped.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	s := &Sandbox{EAKey: NewKey("ea"), GAKey: NewKey("ga"), NoDatabaseKey: NewKey("no-database")}
	defer func() {
		if err != nil {
			if stopErr := s.Stop(); stopErr != nil {
				err = errors.Join(err, stopErr)
			}
		}
	}()
	if s.EA, err = pgserver.Start(ctx, pgserver.Options{Version: 16}); err != nil {
		return nil, fmt.Errorf("start the EA database (PostgreSQL 16): %w", err)
	}
	if s.GA, err = pgserver.Start(ctx, pgserver.Options{Version: 17}); err != nil {
		return nil, fmt.Errorf("start the GA database (PostgreSQL 17): %w", err)
	}
	if !opts.EmptySource {
		if err := Exec(ctx, s.EA.URL("postgres"), sampleSQL); err != nil {
			return nil, fmt.Errorf("load the sample data: %w", err)
		}
	}
	s.Gateway = gateway.New(gateway.Options{Logf: opts.Logf})
	s.Gateway.AddDatabase(s.EAKey, s.EA.URL("postgres"))
	s.Gateway.AddDatabase(s.GAKey, s.GA.URL("postgres"))
	s.Gateway.AddKeyWithoutDatabase(s.NoDatabaseKey)
	addr := opts.GatewayAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if s.WSURL, err = s.Gateway.Start(addr); err != nil {
		return nil, fmt.Errorf("start the gateway: %w", err)
	}
	return s, nil
}

// Stop stops the gateway and both servers. It is safe to call more than
// once and on a partly started sandbox.
func (s *Sandbox) Stop() error {
	var errs []error
	if s.Gateway != nil {
		errs = append(errs, s.Gateway.Close())
	}
	for _, srv := range []*pgserver.Server{s.GA, s.EA} {
		if srv != nil {
			errs = append(errs, srv.Stop())
		}
	}
	return errors.Join(errs...)
}

// Exec runs a script of SQL statements on the database at url.
func Exec(ctx context.Context, url, sql string) (err error) {
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() {
		if closeErr := conn.Close(context.Background()); closeErr != nil {
			err = errors.Join(err, fmt.Errorf("close: %w", closeErr))
		}
	}()
	_, err = conn.Exec(ctx, sql).ReadAll()
	return err
}

// NewKey returns a fresh random API key shaped like Prisma's (a JWT), with
// label in its payload so that people can tell sandbox keys apart.
func NewKey(label string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	nonce := make([]byte, 16)
	rand.Read(nonce)
	sig := make([]byte, 32)
	rand.Read(sig)
	payload, _ := json.Marshal(map[string]string{"sandbox": label, "nonce": b64(nonce)})
	return b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64(payload) + "." + b64(sig)
}
