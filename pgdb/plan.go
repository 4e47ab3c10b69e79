package pgdb

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SourceFacts reads what a migration's plan checks of a source: its
// extensions, policies and their roles, event triggers, publications,
// subscriptions and large objects. The queries go out together (two
// round trips, not two each), and the subscriptions' alone, as a simple
// query (one round trip), since it may be refused.
func (d *DB) SourceFacts(ctx context.Context) (SourceFacts, error) {
	var f SourceFacts
	b := &pgx.Batch{}
	queueStrings(b, `SELECT extname FROM pg_extension ORDER BY 1`, &f.Extensions)
	b.Queue(`
		SELECT n.nspname, c.relname, p.polname,
		       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r)
		FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		ORDER BY 1, 2, 3`).Query(func(rows pgx.Rows) error {
		var err error
		f.Policies, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (PolicyRoles, error) {
			var p PolicyRoles
			err := r.Scan(&p.Schema, &p.Table, &p.Name, &p.Roles)
			return p, err
		})
		return err
	})
	queueStrings(b, `SELECT evtname FROM pg_event_trigger ORDER BY 1`, &f.EventTriggers)
	queueStrings(b, `SELECT pubname FROM pg_publication ORDER BY 1`, &f.Publications)
	b.Queue(`SELECT count(*) FROM pg_largeobject_metadata`).QueryRow(func(r pgx.Row) error { return r.Scan(&f.LargeObjects) })
	if err := d.sendBatch(ctx, b); err != nil {
		return f, err
	}
	// pg_subscription is readable by superusers only: without the right,
	// there is nothing to say.
	f.Subscriptions, _ = strings1(ctx, d.conn, `SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`, pgx.QueryExecModeSimpleProtocol)
	return f, nil
}

// TargetFacts reads what a migration's plan checks of a target: the
// extensions it offers, its roles, whether its user is a superuser, and
// how many more connections it takes (-1 when that cannot be read). The
// first three go out together (two round trips, not two each), the last
// alone, as a simple query, since it may fail.
func (d *DB) TargetFacts(ctx context.Context) (TargetFacts, error) {
	var f TargetFacts
	b := &pgx.Batch{}
	queueStrings(b, `SELECT name FROM pg_available_extensions ORDER BY 1`, &f.Available)
	queueStrings(b, `SELECT rolname FROM pg_roles ORDER BY 1`, &f.Roles)
	b.Queue(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).QueryRow(func(r pgx.Row) error { return r.Scan(&f.Superuser) })
	if err := d.sendBatch(ctx, b); err != nil {
		return f, err
	}
	// The lowest of the server's room (less the slots reserved for
	// superusers and, since 16, for pg_use_reserved_connections), the
	// database's limit and the role's.
	err := d.conn.QueryRow(ctx, `
		SELECT least(
		  current_setting('max_connections')::int
		    - current_setting('superuser_reserved_connections')::int
		    - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0)
		    - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
		  (SELECT CASE WHEN datconnlimit < 0 THEN 1000000 ELSE datconnlimit - (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = current_database()) END
		     FROM pg_database WHERE datname = current_database()),
		  (SELECT CASE WHEN rolconnlimit < 0 THEN 1000000 ELSE rolconnlimit - (SELECT count(*) FROM pg_stat_activity a WHERE a.usename = current_user) END
		     FROM pg_roles WHERE rolname = current_user))::int`, pgx.QueryExecModeSimpleProtocol).Scan(&f.FreeConnections)
	if err != nil {
		f.FreeConnections = -1
	}
	return f, nil
}

// sendBatch sends b's queries together and runs their callbacks: pgx
// prepares them all in one round trip and runs them all in a second.
func (d *DB) sendBatch(ctx context.Context, b *pgx.Batch) error {
	return d.conn.SendBatch(ctx, b).Close()
}

// queueStrings queues a one-column query of text whose rows go to out.
func queueStrings(b *pgx.Batch, sql string, out *[]string) {
	b.Queue(sql).Query(func(rows pgx.Rows) error {
		var err error
		*out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
}

// strings1 collects a one-column query of text.
func strings1(ctx context.Context, conn querier, sql string, args ...any) ([]string, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
