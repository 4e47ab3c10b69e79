package pgdb

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SourceFacts reads what a migration's plan checks of a source: its
// extensions, policies and their roles, event triggers, publications,
// subscriptions and large objects.
func (d *DB) SourceFacts(ctx context.Context) (SourceFacts, error) {
	var f SourceFacts
	var err error
	if f.Extensions, err = strings1(ctx, d.conn, `SELECT extname FROM pg_extension ORDER BY 1`); err != nil {
		return f, err
	}
	rows, err := d.conn.Query(ctx, `
		SELECT n.nspname, c.relname, p.polname,
		       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r)
		FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		ORDER BY 1, 2, 3`)
	if err != nil {
		return f, err
	}
	f.Policies, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (PolicyRoles, error) {
		var p PolicyRoles
		err := r.Scan(&p.Schema, &p.Table, &p.Name, &p.Roles)
		return p, err
	})
	if err != nil {
		return f, err
	}
	if f.EventTriggers, err = strings1(ctx, d.conn, `SELECT evtname FROM pg_event_trigger ORDER BY 1`); err != nil {
		return f, err
	}
	if f.Publications, err = strings1(ctx, d.conn, `SELECT pubname FROM pg_publication ORDER BY 1`); err != nil {
		return f, err
	}
	// pg_subscription is readable by superusers only: without the right,
	// there is nothing to say.
	f.Subscriptions, _ = strings1(ctx, d.conn, `SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`)
	err = d.conn.QueryRow(ctx, `SELECT count(*) FROM pg_largeobject_metadata`).Scan(&f.LargeObjects)
	return f, err
}

// TargetFacts reads what a migration's plan checks of a target: the
// extensions it offers, its roles, whether its user is a superuser, and
// how many more connections it takes (-1 when that cannot be read).
func (d *DB) TargetFacts(ctx context.Context) (TargetFacts, error) {
	var f TargetFacts
	var err error
	if f.Available, err = strings1(ctx, d.conn, `SELECT name FROM pg_available_extensions ORDER BY 1`); err != nil {
		return f, err
	}
	if f.Roles, err = strings1(ctx, d.conn, `SELECT rolname FROM pg_roles ORDER BY 1`); err != nil {
		return f, err
	}
	if err := d.conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&f.Superuser); err != nil {
		return f, err
	}
	// The lowest of the server's room (less the slots reserved for
	// superusers and, since 16, for pg_use_reserved_connections), the
	// database's limit and the role's.
	err = d.conn.QueryRow(ctx, `
		SELECT least(
		  current_setting('max_connections')::int
		    - current_setting('superuser_reserved_connections')::int
		    - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0)
		    - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
		  (SELECT CASE WHEN datconnlimit < 0 THEN 1000000 ELSE datconnlimit - (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = current_database()) END
		     FROM pg_database WHERE datname = current_database()),
		  (SELECT CASE WHEN rolconnlimit < 0 THEN 1000000 ELSE rolconnlimit - (SELECT count(*) FROM pg_stat_activity a WHERE a.usename = current_user) END
		     FROM pg_roles WHERE rolname = current_user))::int`).Scan(&f.FreeConnections)
	if err != nil {
		f.FreeConnections = -1
	}
	return f, nil
}

// strings1 collects a one-column query of text.
func strings1(ctx context.Context, conn querier, sql string) ([]string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
