package migrate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgDB is the real DB: catalog queries over one pgx connection.
type pgDB struct{ conn *pgx.Conn }

// NewDB returns the DB of a pgx connection; Close closes it.
func NewDB(conn *pgx.Conn) DB { return pgDB{conn: conn} }

func (d pgDB) ServerInfo(ctx context.Context) (ServerInfo, error) { return readServerInfo(ctx, d.conn) }
func (d pgDB) Tables(ctx context.Context) ([]Table, error)        { return listTables(ctx, d.conn) }
func (d pgDB) Writes(ctx context.Context) (int64, error)          { return readWrites(ctx, d.conn) }

func (d pgDB) TableWrites(ctx context.Context) (map[string]int64, error) {
	return tableWrites(ctx, d.conn)
}

func (d pgDB) CountRows(ctx context.Context, tables []Table) (map[string]int64, error) {
	return countRows(ctx, d.conn, tables)
}

func (d pgDB) Sequences(ctx context.Context) (map[string]int64, error) {
	return readSequences(ctx, d.conn)
}

func (d pgDB) Objects(ctx context.Context) (ObjectCounts, error) { return countObjects(ctx, d.conn) }

func (d pgDB) Truncate(ctx context.Context, t Table) error {
	_, err := d.conn.Exec(ctx, "TRUNCATE ONLY "+t.quoted())
	return err
}

func (d pgDB) Close() {
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

func (d pgDB) ContentHashes(ctx context.Context, tables []Table) (map[string]string, string, error) {
	tx, err := d.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, "", err
	}
	defer func() {
		ctx, cancel := endCtx()
		defer cancel()
		_ = tx.Rollback(ctx)
	}()
	h, err := contentHashes(ctx, tx, tables)
	if err != nil {
		return nil, "", err
	}
	lo, err := largeObjectsHash(ctx, tx)
	return h, lo, err
}

func (d pgDB) LargeObjects(ctx context.Context) ([]uint32, error) {
	return largeObjectOIDs(ctx, d.conn)
}

// unlinkBatch bounds the large objects unlinked by one statement.
const unlinkBatch = 10000

func (d pgDB) UnlinkLargeObjects(ctx context.Context, oids []uint32) error {
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

// analyzeBatch bounds the tables one ANALYZE statement names, so that the
// progress moves and a statement stays short.
const analyzeBatch = 20

func (d pgDB) Analyze(ctx context.Context, tables []Table) error {
	if len(tables) == 0 {
		return nil
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.quoted()
	}
	_, err := d.conn.Exec(ctx, "ANALYZE "+strings.Join(names, ", "))
	return err
}

// DropUserSchemas empties a target that an interrupted schema restore left
// half done (see restorer.resetTarget).
func (d pgDB) DropUserSchemas(ctx context.Context) error {
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

// postDataKey names a post-data object the way PostDataObjects and the
// archive's entries can both be keyed: its kind, schema and name as
// pg_restore --list shows them.
func postDataKey(kind, schema, name string) string { return kind + "\x00" + schema + "\x00" + name }

func (d pgDB) PostDataObjects(ctx context.Context) (map[string]bool, error) {
	existing := map[string]bool{}
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
		rows, err := d.conn.Query(ctx, q.sql)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var schema, name string
			if err := rows.Scan(&schema, &name); err != nil {
				rows.Close()
				return nil, err
			}
			existing[postDataKey(q.desc, schema, name)] = true
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return existing, nil
}

// pgSnapshot is the real Snapshot.
type pgSnapshot struct {
	tx     pgx.Tx
	id     string
	why    string
	writes int64
}

func (d pgDB) Snapshot(ctx context.Context, export bool) (Snapshot, error) {
	writes, err := readWrites(ctx, d.conn)
	if err != nil {
		return nil, fmt.Errorf("read the source's statistics: %w", err)
	}
	s := &pgSnapshot{writes: writes}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if s.tx, err = d.conn.BeginTx(ctx, opts); err != nil {
		return nil, fmt.Errorf("begin the snapshot transaction: %w", err)
	}
	if !export {
		s.why = "pg_dump could not import it"
		return s, nil
	}
	if err := s.tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&s.id); err != nil {
		// A standby or a pooler can refuse: carry on in a transaction of
		// our own.
		s.why, s.id = err.Error(), ""
		_ = s.tx.Rollback(ctx)
		if s.tx, err = d.conn.BeginTx(ctx, opts); err != nil {
			return nil, fmt.Errorf("begin the snapshot transaction: %w", err)
		}
	}
	return s, nil
}

func (s *pgSnapshot) ID() string    { return s.id }
func (s *pgSnapshot) Why() string   { return s.why }
func (s *pgSnapshot) Writes() int64 { return s.writes }

func (s *pgSnapshot) Tables(ctx context.Context) ([]Table, error) { return listTables(ctx, s.tx) }

func (s *pgSnapshot) Manifest(ctx context.Context, tables []Table, content bool) (*Manifest, error) {
	counts, err := countRows(ctx, s.tx, tables)
	if err != nil {
		return nil, err
	}
	seqs, err := readSequences(ctx, s.tx)
	if err != nil {
		return nil, err
	}
	objs, err := countObjects(ctx, s.tx)
	if err != nil {
		return nil, err
	}
	los, err := largeObjectOIDs(ctx, s.tx)
	if err != nil {
		return nil, err
	}
	writes, err := tableWrites(ctx, s.tx)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Version: 1, Sequences: seqs, Objects: objs, LargeObjects: oidRanges(los), Writes: writes}
	for _, t := range tables {
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: counts[t.QualifiedName()]})
	}
	if content {
		if m.Content, err = contentHashes(ctx, s.tx, tables); err != nil {
			return nil, err
		}
		if m.LargeObjectsContent, err = largeObjectsHash(ctx, s.tx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (s *pgSnapshot) Commit(ctx context.Context) error { return s.tx.Commit(ctx) }

// Close rolls back; after Commit it does nothing.
func (s *pgSnapshot) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = s.tx.Rollback(ctx)
}

// Watcher opens a second connection with the same parameters, for polling
// while the first is busy.
func (d pgDB) Watcher(ctx context.Context) (Watcher, error) {
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
	return &pgWatcher{conn: conn, progress: v >= 140000}, nil
}

type pgWatcher struct {
	conn *pgx.Conn
	// progress is set when the server has pg_stat_progress_copy (14+).
	progress bool
}

func (w *pgWatcher) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = w.conn.Close(ctx)
}

func (w *pgWatcher) Activity(ctx context.Context, app string) (Activity, error) {
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

func (d pgDB) SourceFacts(ctx context.Context) (SourceFacts, error) {
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

func (d pgDB) TargetFacts(ctx context.Context) (TargetFacts, error) {
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
