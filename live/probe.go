package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// BlockerKind names one reason live migration is impossible on a source.
type BlockerKind string

// The blockers Probe finds.
const (
	// BlockServerVersion: the server predates logical decoding with
	// pgoutput (PostgreSQL 10).
	BlockServerVersion BlockerKind = "server_version"
	// BlockWALLevel: wal_level is not logical (a server restart, or a
	// provider setting such as rds.logical_replication).
	BlockWALLevel BlockerKind = "wal_level"
	// BlockRole: the role has neither REPLICATION nor superuser.
	BlockRole BlockerKind = "replication_role"
	// BlockSlots: every replication slot is taken (max_replication_slots).
	BlockSlots BlockerKind = "replication_slots"
	// BlockSenders: every WAL sender is busy (max_wal_senders).
	BlockSenders BlockerKind = "wal_senders"
	// BlockCreate: the role may not create a publication in the database
	// (CREATE on the database).
	BlockCreate BlockerKind = "create_publication"
	// BlockOwnership: the role owns not every table, and is not superuser:
	// a publication FOR TABLE needs ownership. Blocker.Tables names them.
	BlockOwnership BlockerKind = "table_ownership"
	// BlockReplicationConnection: a replication connection
	// (replication=database) was refused, as a pooler or a gateway may
	// refuse it. Blocker.Have is the refusal.
	BlockReplicationConnection BlockerKind = "replication_connection"
)

// Blocker is one reason live migration is impossible, with the value the
// source has and the one it needs.
type Blocker struct {
	Kind BlockerKind
	// Have and Need are the setting's or count's value on the source and
	// what live migration needs ("replica" and "logical"; "0 free" and "1").
	Have, Need string
	// Tables are the tables concerned, for BlockOwnership.
	Tables []Table
}

// Identity is how a table's rows are identified in the stream.
type Identity string

// Table identities.
const (
	IdentityKey   Identity = "primary_key"
	IdentityIndex Identity = "index"
	IdentityFull  Identity = "full"
	IdentityNone  Identity = "none"
)

// TableFacts is what the probe found of one table.
type TableFacts struct {
	Table    Table
	Identity Identity
	Owned    bool
	Unlogged bool
}

// Probe is what a source offers for live migration. Probing creates
// nothing and changes nothing.
type Probe struct {
	ServerVersion int // server_version_num, e.g. 160004
	WALLevel      string
	Superuser     bool
	Replication   bool
	// Slots and Senders: the maximum and how many are in use.
	MaxSlots, UsedSlots     int
	MaxSenders, UsedSenders int
	CanCreate               bool
	// Tables are the user's ordinary tables (partitions included; the
	// members of extensions not).
	Tables       []TableFacts
	LargeObjects int64
	// Blockers say why live migration is impossible; empty when it is.
	Blockers []Blocker
	// Took is how long the probe took.
	Took time.Duration
}

// Possible reports whether nothing blocks live migration.
func (p *Probe) Possible() bool { return len(p.Blockers) == 0 }

// NoIdentity lists the tables whose UPDATEs and DELETEs a publication
// would make fail on the source (no primary key, no replica identity):
// each needs consent to REPLICA IDENTITY FULL, or is copied once and
// checked at cutover.
func (p *Probe) NoIdentity() []Table {
	var out []Table
	for _, t := range p.Tables {
		if t.Identity == IdentityNone && !t.Unlogged {
			out = append(out, t.Table)
		}
	}
	return out
}

// Unlogged lists the unlogged tables: not streamed, copied once.
func (p *Probe) Unlogged() []Table {
	var out []Table
	for _, t := range p.Tables {
		if t.Unlogged {
			out = append(out, t.Table)
		}
	}
	return out
}

// probeFactsSQL reads the server's and the role's facts in one round trip.
const probeFactsSQL = `SELECT current_setting('server_version_num')::int, current_setting('wal_level'),
	r.rolsuper, r.rolreplication,
	current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_replication_slots)::int,
	current_setting('max_wal_senders')::int, (SELECT count(*) FROM pg_stat_replication)::int,
	has_database_privilege(current_database(), 'CREATE'),
	(SELECT count(*) FROM pg_largeobject_metadata)
FROM pg_roles r WHERE r.rolname = current_user`

// probeTablesSQL lists the user's ordinary tables with their identity.
const probeTablesSQL = `SELECT n.nspname, c.relname, c.relreplident::text, c.relpersistence = 'u',
	pg_has_role(c.relowner, 'USAGE'),
	EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
	EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence IN ('p', 'u')
	AND n.nspname NOT IN ('pg_catalog', 'information_schema', ` + "'" + bookkeepingSchema + "'" + `)
	AND n.nspname NOT LIKE 'pg\_%'
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`

// ProbeSource connects to the source and reads what live migration needs,
// creating nothing. A source that cannot stream is not an error: the
// result's Blockers say why. Errors are failures to connect or to read.
func ProbeSource(ctx context.Context, source string) (*Probe, error) {
	start := time.Now()
	conn, err := connect(ctx, source)
	if err != nil {
		return nil, fmt.Errorf("connect to the source: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	p := &Probe{}
	err = conn.QueryRow(ctx, probeFactsSQL).Scan(&p.ServerVersion, &p.WALLevel, &p.Superuser, &p.Replication,
		&p.MaxSlots, &p.UsedSlots, &p.MaxSenders, &p.UsedSenders, &p.CanCreate, &p.LargeObjects)
	if err != nil {
		return nil, fmt.Errorf("read the source's replication settings: %w", err)
	}
	if p.Tables, err = probeTables(ctx, conn); err != nil {
		return nil, err
	}
	p.Blockers = blockers(p)
	if len(p.Blockers) == 0 {
		// The settings allow streaming: check that a replication
		// connection gets through whatever stands in between.
		if b := probeReplication(ctx, source); b != nil {
			p.Blockers = append(p.Blockers, *b)
		}
	}
	p.Took = time.Since(start)
	return p, nil
}

// probeReplication opens a replication session and closes it; a refusal
// is a Blocker, with the server's message when it gave one.
func probeReplication(ctx context.Context, source string) *Blocker {
	conn, err := connectReplication(ctx, source)
	if err == nil {
		_ = conn.Close(context.Background())
		return nil
	}
	have := err.Error()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		have = pgErr.Message
	}
	return &Blocker{Kind: BlockReplicationConnection, Have: have, Need: "replication=database"}
}

// probeTables reads the tables' facts.
func probeTables(ctx context.Context, conn *pgx.Conn) ([]TableFacts, error) {
	rows, err := conn.Query(ctx, probeTablesSQL)
	if err != nil {
		return nil, fmt.Errorf("list the source's tables: %w", err)
	}
	var out []TableFacts
	var f TableFacts
	var ident string
	var pk, identIndex bool
	_, err = pgx.ForEachRow(rows, []any{&f.Table.Schema, &f.Table.Name, &ident, &f.Unlogged, &f.Owned, &pk, &identIndex}, func() error {
		f.Identity = identityOf(ident, pk, identIndex)
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the source's tables: %w", err)
	}
	return out, nil
}

// identityOf says how rows of a table with replica identity setting
// relreplident are identified.
func identityOf(relreplident string, pk, identIndex bool) Identity {
	switch {
	case relreplident == string(rune(identityFull)):
		return IdentityFull
	case relreplident == string(rune(identityDefault)) && pk:
		return IdentityKey
	case relreplident == string(rune(identityIndex)) && identIndex:
		return IdentityIndex
	}
	return IdentityNone
}

// blockers lists what makes live migration impossible on a source with
// the facts of p.
func blockers(p *Probe) []Blocker {
	var out []Blocker
	if p.ServerVersion < 100000 {
		out = append(out, Blocker{Kind: BlockServerVersion, Have: fmt.Sprint(p.ServerVersion / 10000), Need: "10"})
	}
	if p.WALLevel != "logical" {
		out = append(out, Blocker{Kind: BlockWALLevel, Have: p.WALLevel, Need: "logical"})
	}
	if !p.Superuser && !p.Replication {
		out = append(out, Blocker{Kind: BlockRole, Have: "NOREPLICATION", Need: "REPLICATION"})
	}
	if free := p.MaxSlots - p.UsedSlots; free < 1 {
		out = append(out, Blocker{Kind: BlockSlots, Have: fmt.Sprintf("%d of %d free", max(free, 0), p.MaxSlots), Need: "1 free"})
	}
	if free := p.MaxSenders - p.UsedSenders; free < 1 {
		out = append(out, Blocker{Kind: BlockSenders, Have: fmt.Sprintf("%d of %d free", max(free, 0), p.MaxSenders), Need: "1 free"})
	}
	if !p.Superuser && !p.CanCreate {
		out = append(out, Blocker{Kind: BlockCreate, Have: "no CREATE on the database", Need: "CREATE on the database"})
	}
	if !p.Superuser {
		var notOwned []Table
		for _, t := range p.Tables {
			if !t.Owned && !t.Unlogged {
				notOwned = append(notOwned, t.Table)
			}
		}
		if len(notOwned) > 0 {
			out = append(out, Blocker{Kind: BlockOwnership, Have: fmt.Sprintf("%d tables owned by other roles", len(notOwned)), Need: "ownership", Tables: notOwned})
		}
	}
	return out
}
