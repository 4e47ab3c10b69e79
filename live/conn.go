package live

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// bookkeepingSchema holds the applied position on the target. The package
// creates it and drops it at the end.
const bookkeepingSchema = "ppg_live"

// connectTimeout bounds each connection attempt unless the URL sets one.
const connectTimeout = 15 * time.Second

// sessionSettings make every value's text the same on source and target:
// the stream carries values as text produced with the replication
// session's settings, and the target reads them with its own.
var sessionSettings = map[string]string{
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "postgres",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
}

// configure sets the session settings and defaults on a parsed config.
func configure(cfg *pgconn.Config) {
	for k, v := range sessionSettings {
		cfg.RuntimeParams[k] = v
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "ppg live"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
}

// connect opens an ordinary session.
func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse connection settings: %w", err)
	}
	configure(&cfg.Config)
	return pgx.ConnectConfig(ctx, cfg)
}

// connectReplication opens a logical replication session
// (replication=database): one WAL sender on the source.
func connectReplication(ctx context.Context, url string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse connection settings: %w", err)
	}
	configure(cfg)
	cfg.RuntimeParams["replication"] = "database"
	return pgconn.ConnectConfig(ctx, cfg)
}
