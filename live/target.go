package live

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// bookkeepingSQL creates the position table on the target: one row per
// slot, updated in the same transaction as the changes it records.
const bookkeepingSQL = `CREATE SCHEMA IF NOT EXISTS ` + bookkeepingSchema + `;
CREATE TABLE IF NOT EXISTS ` + bookkeepingSchema + `.position (
	slot text PRIMARY KEY,
	lsn pg_lsn NOT NULL,
	commit_time timestamptz,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// positionUpdateSQL records an applied transaction.
const positionUpdateSQL = `UPDATE ` + bookkeepingSchema + `.position SET lsn = $1, commit_time = $2, applied_at = now() WHERE slot = $3`

// recordedPosition creates the bookkeeping if needed and returns the
// position the target recorded for slot (0 when none yet).
func recordedPosition(ctx context.Context, conn *pgx.Conn, slot string) (LSN, error) {
	if _, err := conn.Exec(ctx, bookkeepingSQL); err != nil {
		return 0, fmt.Errorf("create the bookkeeping schema %s on the target: %w", bookkeepingSchema, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO `+bookkeepingSchema+`.position (slot, lsn) VALUES ($1, '0/0') ON CONFLICT (slot) DO NOTHING`, slot); err != nil {
		return 0, fmt.Errorf("record the stream's position on the target: %w", err)
	}
	var lsn string
	if err := conn.QueryRow(ctx, `SELECT lsn::text FROM `+bookkeepingSchema+`.position WHERE slot = $1`, slot).Scan(&lsn); err != nil {
		return 0, fmt.Errorf("read the stream's position on the target: %w", err)
	}
	return parseLSN(lsn)
}

// targetColumn is one column of a target table.
type targetColumn struct {
	name      string
	generated bool
	typ       uint32
}

// targetColumns reads a target table's columns; exists is false when the
// table is not there.
func targetColumns(ctx context.Context, conn *pgx.Conn, t Table) (cols []targetColumn, exists bool, err error) {
	var oid *uint32
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1)::oid", t.Sanitize()).Scan(&oid); err != nil {
		return nil, false, fmt.Errorf("look up table %s on the target: %w", t, err)
	}
	if oid == nil {
		return nil, false, nil
	}
	rows, err := conn.Query(ctx, `SELECT attname, attgenerated <> '', atttypid FROM pg_attribute
		WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, *oid)
	if err != nil {
		return nil, false, fmt.Errorf("read the columns of %s on the target: %w", t, err)
	}
	var c targetColumn
	_, err = pgx.ForEachRow(rows, []any{&c.name, &c.generated, &c.typ}, func() error {
		cols = append(cols, c)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("read the columns of %s on the target: %w", t, err)
	}
	return cols, true, nil
}

// firstUserOID is where user-defined objects' OIDs start: below it, a
// type's OID is the same on every server.
const firstUserOID = 16384

// matchColumns compares the source's columns with the target's. It marks
// the source's columns generated on the target (never written) and
// returns a *DDLError when they differ: a column missing on the target, a
// column only on the target (not generated), or a built-in type changed.
func matchColumns(r *relation, target []targetColumn) error {
	e := &DDLError{Table: r.table}
	for i, c := range r.cols {
		j := slices.IndexFunc(target, func(t targetColumn) bool { return t.name == c.name })
		if j < 0 {
			e.Missing = append(e.Missing, c.name)
			continue
		}
		r.cols[i].skip = target[j].generated
		if c.typ < firstUserOID && target[j].typ < firstUserOID && c.typ != target[j].typ {
			e.Changed = append(e.Changed, c.name)
		}
	}
	for _, t := range target {
		if !t.generated && !slices.ContainsFunc(r.cols, func(c relColumn) bool { return c.name == t.name }) {
			e.Extra = append(e.Extra, t.name)
		}
	}
	if len(e.Missing)+len(e.Extra)+len(e.Changed) > 0 {
		return e
	}
	return nil
}

// parseLSN parses an LSN's text.
func parseLSN(s string) (LSN, error) {
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		return 0, fmt.Errorf("parse position %q: %w", s, err)
	}
	return lsn, nil
}

// replicaRole sets session_replication_role = replica on the target
// session, as PostgreSQL's own apply worker runs: the target's ordinary
// triggers and foreign-key checks do not fire on changes the source made
// (their effects arrive through the stream themselves). It needs
// superuser or the SET privilege on the parameter; without it, fire is
// true and the stream goes on.
func replicaRole(ctx context.Context, conn *pgx.Conn) (fire bool, err error) {
	_, err = conn.Exec(ctx, "SET session_replication_role = replica")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("set session_replication_role on the target: %w", err)
	}
	return false, nil
}
