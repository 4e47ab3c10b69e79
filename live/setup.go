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

// SetupOptions says what Setup creates.
type SetupOptions struct {
	// Source is the source's connection URL.
	Source string
	Names  Names
	// Tables are the tables the migration copies; nil means every table
	// the probe lists.
	Tables []Table
	// FullIdentity are tables without a primary key or replica identity
	// whose owner consented to REPLICA IDENTITY FULL on the source. A table
	// without identity and without consent is not published: it is copied
	// once, and cutover reports it to be checked.
	FullIdentity []Table
	// AllTables asks for a publication FOR ALL TABLES, used only when the
	// role is superuser and every table has an identity. The default, FOR
	// TABLE, keeps tables created later out of the publication, so their
	// UPDATEs and DELETEs can never fail on the source.
	AllTables bool
}

// Snapshot is what Setup created: a publication and a slot, and the
// slot's exported snapshot, valid while the replication session that
// created it stays open and idle. Call Release once the copy (pg_dump
// --snapshot=Name) has taken it, and on every path that gives up.
type Snapshot struct {
	Names Names
	// Name is the exported snapshot: pg_dump --snapshot=Name copies the
	// data exactly as of ConsistentPoint, where the stream starts.
	Name            string
	ConsistentPoint LSN
	// Published are the tables whose changes stream; CopyOnce the tables
	// copied once and not streamed (no identity and no consent, or
	// unlogged); IdentityFull the tables Setup set REPLICA IDENTITY FULL on.
	Published    []Table
	CopyOnce     []Table
	IdentityFull []Table
	AllTables    bool

	conn *pgconn.PgConn
}

// Release closes the replication session that holds the snapshot. The
// slot stays. Calling it again does nothing.
func (s *Snapshot) Release(ctx context.Context) error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close(ctx)
	s.conn = nil
	return err
}

// Setup probes the source and, when nothing blocks, creates the
// publication and the logical replication slot (pgoutput) with an
// exported snapshot. If something fails after the publication was
// created, Setup drops what it created.
func Setup(ctx context.Context, opts SetupOptions) (*Snapshot, error) {
	if err := opts.Names.check(); err != nil {
		return nil, err
	}
	probe, err := ProbeSource(ctx, opts.Source)
	if err != nil {
		return nil, err
	}
	if !probe.Possible() {
		return nil, &BlockedError{Blockers: probe.Blockers}
	}
	snap := plan(probe, opts)
	if err := createPublication(ctx, opts.Source, snap); err != nil {
		return nil, err
	}
	if err := createSlot(ctx, opts.Source, probe.ServerVersion, snap); err != nil {
		if dropErr := dropPublication(context.WithoutCancel(ctx), opts.Source, snap.Names); dropErr != nil {
			err = errors.Join(err, dropErr)
		}
		return nil, err
	}
	return snap, nil
}

// plan decides which tables are published and how.
func plan(probe *Probe, opts SetupOptions) *Snapshot {
	snap := &Snapshot{Names: opts.Names}
	allIdentified := true
	for _, f := range probe.Tables {
		if opts.Tables != nil && !slices.Contains(opts.Tables, f.Table) {
			continue
		}
		switch {
		case f.Unlogged:
			snap.CopyOnce = append(snap.CopyOnce, f.Table)
			allIdentified = false
		case f.Identity != IdentityNone:
			snap.Published = append(snap.Published, f.Table)
		case slices.Contains(opts.FullIdentity, f.Table):
			snap.IdentityFull = append(snap.IdentityFull, f.Table)
			snap.Published = append(snap.Published, f.Table)
		default:
			snap.CopyOnce = append(snap.CopyOnce, f.Table)
			allIdentified = false
		}
	}
	snap.AllTables = opts.AllTables && probe.Superuser && allIdentified && opts.Tables == nil
	return snap
}

// createPublication sets the consented replica identities and creates
// the publication, in one transaction. A publication of the same name,
// left by an earlier Setup that failed before its slot, is replaced.
func createPublication(ctx context.Context, source string, snap *Snapshot) error {
	conn, err := connect(ctx, source)
	if err != nil {
		return fmt.Errorf("connect to the source: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	tables := snap.Published
	if snap.AllTables {
		tables = nil
	} else if tables == nil {
		tables = []Table{}
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, t := range snap.IdentityFull {
			if _, err := tx.Exec(ctx, "ALTER TABLE "+t.Sanitize()+" REPLICA IDENTITY FULL"); err != nil {
				return fmt.Errorf("set replica identity full on %s: %w", t, err)
			}
		}
		if _, err := tx.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{snap.Names.Publication}.Sanitize()); err != nil {
			return fmt.Errorf("drop an earlier publication %s: %w", snap.Names.Publication, err)
		}
		if _, err := tx.Exec(ctx, publicationSQL(snap.Names.Publication, tables)); err != nil {
			return fmt.Errorf("create publication %s: %w", snap.Names.Publication, err)
		}
		return nil
	})
}

// createSlot creates the slot on a replication session that it keeps in
// snap, idle, so the exported snapshot stays valid.
func createSlot(ctx context.Context, source string, version int, snap *Snapshot) error {
	conn, err := connectReplication(ctx, source)
	if err != nil {
		return fmt.Errorf("open a replication session on the source: %w", err)
	}
	// PostgreSQL 15 took the options in parentheses; older servers the
	// bare keyword.
	sql := "CREATE_REPLICATION_SLOT " + snap.Names.Slot + " LOGICAL pgoutput (SNAPSHOT 'export')"
	if version < 150000 {
		sql = "CREATE_REPLICATION_SLOT " + snap.Names.Slot + " LOGICAL pgoutput EXPORT_SNAPSHOT"
	}
	res, err := pglogrepl.ParseCreateReplicationSlot(conn.Exec(ctx, sql))
	if err != nil {
		_ = conn.Close(context.Background())
		return fmt.Errorf("create replication slot %s: %w", snap.Names.Slot, err)
	}
	snap.Name = res.SnapshotName
	if snap.ConsistentPoint, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
		_ = conn.Close(context.Background())
		return fmt.Errorf("create replication slot %s: consistent point: %w", snap.Names.Slot, err)
	}
	snap.conn = conn
	return nil
}
