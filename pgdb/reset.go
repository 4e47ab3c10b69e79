package pgdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// publicAsItIsSQL writes the statements that create the public schema
// again as it is now: its owner (pg_database_owner in a database created
// by PostgreSQL 15 or newer), the privileges its owner granted (USAGE to
// PUBLIC there, on which other roles rely) and its comment. A schema
// created anew belongs to whoever creates it and grants nothing, so
// dropping public and creating it plainly changes what a new database has.
// Grants made by roles other than the owner cannot be made again by the
// owner, and are not.
const publicAsItIsSQL = `
SELECT format('CREATE SCHEMA public AUTHORIZATION %I;', pg_get_userbyid(n.nspowner))
	|| coalesce((SELECT string_agg(format('GRANT %s ON SCHEMA public TO %s%s;', a.privilege_type,
			CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
			CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '' ORDER BY a.grantee, a.privilege_type)
		FROM aclexplode(n.nspacl) a WHERE a.grantor = n.nspowner), '')
	|| coalesce(format('COMMENT ON SCHEMA public IS %L;', obj_description(n.oid, 'pg_namespace')), '')
FROM pg_namespace n WHERE n.nspname = 'public'`

// publicAsItIs returns the statements that create public again as it is
// (see publicAsItIsSQL); "" when the database has no public schema, which
// is then left without one.
func (d *DB) publicAsItIs(ctx context.Context) (string, error) {
	var sql string
	err := d.conn.QueryRow(ctx, publicAsItIsSQL).Scan(&sql)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the public schema's owner and privileges: %w", err)
	}
	return sql, nil
}
