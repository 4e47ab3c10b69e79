package pgdb

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Watcher opens a second connection with the same parameters, for polling
// a tool's sessions while the DB's connection is busy. The caller closes
// it.
func (d *DB) Watcher(ctx context.Context) (*Watcher, error) {
	conn, err := pgx.ConnectConfig(ctx, d.conn.Config().Copy())
	if err != nil {
		return nil, err
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&v); err != nil {
		ctx, cancel := endCtx()
		defer cancel()
		_ = conn.Close(ctx)
		return nil, err
	}
	return &Watcher{conn: conn, progress: v >= 140000}, nil
}

// Watcher reads what a tool's sessions are doing, over a connection of
// its own.
type Watcher struct {
	conn *pgx.Conn
	// progress is set when the server has pg_stat_progress_copy (14+).
	progress bool
}

// Close ends the watcher's connection.
func (w *Watcher) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = w.conn.Close(ctx)
}

// Activity reads the sessions whose application_name is app: the table
// each one copies and how far (pg_stat_progress_copy, from 14 on), and
// whether the server is busy on it.
func (w *Watcher) Activity(ctx context.Context, app string) (Activity, error) {
	q := `SELECT '', 0::int8, 0::int8, a.state = 'active' AND coalesce(a.wait_event_type, '') <> 'Client'
		FROM pg_stat_activity a WHERE a.application_name = $1`
	if w.progress {
		q = `SELECT coalesce(n.nspname || '.' || c.relname, ''), coalesce(p.tuples_processed, 0), coalesce(p.bytes_processed, 0),
			a.state = 'active' AND coalesce(a.wait_event_type, '') <> 'Client'
		FROM pg_stat_activity a
		LEFT JOIN pg_stat_progress_copy p ON p.pid = a.pid
		LEFT JOIN pg_class c ON c.oid = p.relid
		LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE a.application_name = $1`
	}
	rows, err := w.conn.Query(ctx, q, app)
	if err != nil {
		return Activity{}, err
	}
	var a Activity
	for rows.Next() {
		var s SessionActivity
		if err := rows.Scan(&s.Table, &s.Tuples, &s.Bytes, &s.Working); err != nil {
			rows.Close()
			return Activity{}, err
		}
		a.Sessions = append(a.Sessions, s)
	}
	return a, rows.Err()
}
