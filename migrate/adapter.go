package migrate

import (
	"context"

	"github.com/ppg-cli/ppg/pgdb"
)

// The facts the adapter reads are the engine's facts too: its manifest,
// events and plan hold them as they are.
type (
	// Table is a table that holds data (see pgdb.Table).
	Table = pgdb.Table
	// ServerInfo is what connecting learns of a server (see pgdb.ServerInfo).
	ServerInfo = pgdb.ServerInfo
	// ObjectCounts counts the user's objects by kind (see pgdb.ObjectCounts).
	ObjectCounts = pgdb.ObjectCounts
	// SourceFacts is what the plan checks of the source.
	SourceFacts = pgdb.SourceFacts
	// PolicyRoles is a policy and the roles it is for.
	PolicyRoles = pgdb.PolicyRoles
	// TargetFacts is what the plan checks of the target.
	TargetFacts = pgdb.TargetFacts
	// Activity is a snapshot of a tool's sessions.
	Activity = pgdb.Activity
	// SessionActivity is what one session of a tool is doing.
	SessionActivity = pgdb.SessionActivity
	// Statement is one simple query of a pipeline.
	Statement = pgdb.Statement
)

// NewDB returns the engine's DB over the adapter's; its Close closes db.
func NewDB(db *pgdb.DB) DB { return database{db} }

// database is a *pgdb.DB with the adapter's concrete snapshot, watcher
// and session as the engine's interfaces.
type database struct{ *pgdb.DB }

func (d database) Snapshot(ctx context.Context, export bool) (Snapshot, error) {
	s, err := d.DB.Snapshot(ctx, export)
	if err != nil {
		return nil, err
	}
	return snapshot{s}, nil
}

func (d database) Watcher(ctx context.Context) (Watcher, error) {
	w, err := d.DB.Watcher(ctx)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (d database) Session(ctx context.Context, app string) (Session, error) {
	s, err := d.DB.Session(ctx, app)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// snapshot makes the adapter's counts the dump's manifest.
type snapshot struct{ *pgdb.Snapshot }

func (s snapshot) CountTables(ctx context.Context, tables []Table, content bool) (TableCounts, error) {
	c, err := s.Snapshot.CountTables(ctx, tables, content)
	if err != nil {
		return TableCounts{}, err
	}
	return TableCounts{Rows: c.Rows, Content: c.Content}, nil
}

func (s snapshot) Manifest(ctx context.Context, tables []Table, content bool) (*Manifest, error) {
	c, err := s.Counts(ctx, tables, content)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Version: 1, Sequences: c.Sequences, Objects: c.Objects, LargeObjects: oidRanges(c.LargeObjects),
		Writes: c.Writes, Content: c.Content, LargeObjectsContent: c.LargeObjectsContent}
	for _, t := range tables {
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: c.Rows[t.QualifiedName()]})
	}
	return m, nil
}
