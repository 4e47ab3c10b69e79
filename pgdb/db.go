package pgdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DB is one database as the engine sees it: catalog queries, counts and
// the few writes a restore needs, over one pgx connection. It is not safe
// for concurrent use; Watcher and Session open connections of their own
// for work beside it. The caller closes it.
type DB struct{ conn *pgx.Conn }

// ServerInfo reads the version, size, identity and emptiness.
func (d *DB) ServerInfo(ctx context.Context) (ServerInfo, error) { return readServerInfo(ctx, d.conn) }

// Tables lists the tables whose rows pg_dump copies.
func (d *DB) Tables(ctx context.Context) ([]Table, error) { return listTables(ctx, d.conn) }

// Writes returns the database's count of rows written (see
// ServerInfo.Writes).
func (d *DB) Writes(ctx context.Context) (int64, error) { return readWrites(ctx, d.conn) }

// TableWrites returns each table's write counter, by qualified name.
func (d *DB) TableWrites(ctx context.Context) (map[string]int64, error) {
	return tableWrites(ctx, d.conn)
}

// CountRows returns the exact row count of each table, by qualified name.
func (d *DB) CountRows(ctx context.Context, tables []Table) (map[string]int64, error) {
	return countRows(ctx, d.conn, tables)
}

// Sequences returns each used sequence's last value by qualified name.
func (d *DB) Sequences(ctx context.Context) (map[string]int64, error) {
	return readSequences(ctx, d.conn)
}

// Objects counts the user's objects by kind (see ObjectKinds).
func (d *DB) Objects(ctx context.Context) (ObjectCounts, error) { return countObjects(ctx, d.conn) }

// Truncate empties one table (not its partitions or children).
func (d *DB) Truncate(ctx context.Context, t Table) error {
	_, err := d.conn.Exec(ctx, "TRUNCATE ONLY "+t.Quoted())
	return err
}

// Close ends the connection, waiting at most endTimeout for the server.
func (d *DB) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = d.conn.Close(ctx)
}

// endTimeout bounds what ending a session sends (a rollback, a
// Terminate): over a link that hangs without closing, nothing answers, and
// a run must still end. pgx closes the connection when it expires.
const endTimeout = 5 * time.Second

func endCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), endTimeout)
}

// ContentHashes hashes each table's rows, by qualified name, and the large
// objects, in a read-only transaction of its own. A hash is the row count
// and the sum of the first 64 bits of each row's md5 (as text): it does
// not depend on the rows' order, and one changed byte changes it. The
// text of dates, floats and bytea is made the same on every server first.
func (d *DB) ContentHashes(ctx context.Context, tables []Table) (map[string]string, string, error) {
	tx, err := d.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, "", err
	}
	defer func() {
		ctx, cancel := endCtx()
		defer cancel()
		_ = tx.Rollback(ctx)
	}()
	if err := setContentSettings(ctx, tx); err != nil {
		return nil, "", err
	}
	h, err := contentHashes(ctx, tx, tables)
	if err != nil {
		return nil, "", err
	}
	lo, err := largeObjectsHash(ctx, tx)
	return h, lo, err
}

// LargeObjects returns the OIDs of the large objects, in order.
func (d *DB) LargeObjects(ctx context.Context) ([]uint32, error) {
	return largeObjectOIDs(ctx, d.conn)
}

// unlinkBatch bounds the large objects unlinked by one statement.
const unlinkBatch = 10000

// UnlinkLargeObjects removes the large objects of oids that exist.
func (d *DB) UnlinkLargeObjects(ctx context.Context, oids []uint32) error {
	for start := 0; start < len(oids); start += unlinkBatch {
		batch := make([]int64, 0, unlinkBatch)
		for _, o := range oids[start:min(start+unlinkBatch, len(oids))] {
			batch = append(batch, int64(o))
		}
		if _, err := d.conn.Exec(ctx, `SELECT count(lo_unlink(oid)) FROM pg_largeobject_metadata WHERE oid::int8 = ANY($1)`, batch); err != nil {
			return fmt.Errorf("remove large objects: %w", err)
		}
	}
	return nil
}

// AnalyzeBatch bounds the tables a caller should hand Analyze at once, so
// that its progress moves and a statement stays short.
const AnalyzeBatch = 20

// Analyze gathers the planner's statistics of tables, in one statement.
func (d *DB) Analyze(ctx context.Context, tables []Table) error {
	if len(tables) == 0 {
		return nil
	}
	_, err := d.conn.Exec(ctx, AnalyzeSQL(tables))
	return err
}

// AnalyzeSQL is the statement that gathers the planner's statistics of
// tables (at least one).
func AnalyzeSQL(tables []Table) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Quoted()
	}
	return "ANALYZE " + strings.Join(names, ", ")
}

// DropUserSchemas drops every user schema (not an extension's) and
// creates an empty public schema again: it empties a target that an
// interrupted schema restore left half done.
func (d *DB) DropUserSchemas(ctx context.Context) error {
	rows, err := d.conn.Query(ctx, `SELECT n.nspname FROM pg_namespace n WHERE `+userNamespaces+` AND `+notExtensionMember("pg_namespace", "n.oid"))
	if err != nil {
		return err
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	public, err := d.publicAsItIs(ctx)
	if err != nil {
		return err
	}
	var sql strings.Builder
	for _, s := range schemas {
		fmt.Fprintf(&sql, "DROP SCHEMA %s CASCADE;", pgx.Identifier{s}.Sanitize())
	}
	sql.WriteString(public)
	_, err = d.conn.Exec(ctx, sql.String())
	return err
}

// PostDataObjects returns the keys (see PostDataKey) of the indexes,
// constraints, triggers, policies, extended statistics, rules, event
// triggers and attached partition indexes that exist.
func (d *DB) PostDataObjects(ctx context.Context) (map[string]bool, error) {
	existing := map[string]bool{}
	b := &pgx.Batch{}
	for _, q := range []struct{ desc, sql string }{
		{"INDEX", `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')`},
		{"CONSTRAINT", `SELECT n.nspname, cl.relname || ' ' || k.conname FROM pg_constraint k JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace`},
		{"TRIGGER", `SELECT n.nspname, c.relname || ' ' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal`},
		{"POLICY", `SELECT n.nspname, c.relname || ' ' || p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace`},
		{"STATISTICS", `SELECT n.nspname, s.stxname FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace`},
		{"RULE", `SELECT n.nspname, c.relname || ' ' || r.rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.rulename <> '_RETURN'`},
		{"EVENT TRIGGER", `SELECT '', evtname FROM pg_event_trigger`},
		// An attached partition index has its parent index in pg_inherits.
		{"INDEX ATTACH", `SELECT n.nspname, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')`},
	} {
		b.Queue(q.sql).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var schema, name string
				if err := rows.Scan(&schema, &name); err != nil {
					return err
				}
				existing[PostDataKey(q.desc, schema, name)] = true
			}
			return rows.Err()
		})
	}
	// All eight go out together: two round trips, not two each.
	if err := d.conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return existing, nil
}
