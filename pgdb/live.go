package pgdb

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// snapshotNameRE is what an exported snapshot's name looks like
// ("00000003-00000002-1"): it is spliced into SET TRANSACTION SNAPSHOT,
// which takes no parameter.
var snapshotNameRE = regexp.MustCompile(`^[0-9A-F]+(-[0-9A-F]+)+$`)

// ImportSnapshot begins a read-only repeatable-read transaction in the
// exported snapshot name (a replication slot's, for a live migration), so
// that ppg's counts are those of the copy pg_dump --snapshot=name makes.
// ID is name.
func (d *DB) ImportSnapshot(ctx context.Context, name string) (*Snapshot, error) {
	if !snapshotNameRE.MatchString(name) {
		return nil, fmt.Errorf("import snapshot: %q is not a snapshot name", name)
	}
	writes, err := readWrites(ctx, d.conn)
	if err != nil {
		return nil, fmt.Errorf("read the source's statistics: %w", err)
	}
	seqs, err := readSnapshotSequences(ctx, d.conn)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{writes: writes, seqs: seqs, id: name}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if s.tx, err = d.conn.BeginTx(ctx, opts); err != nil {
		return nil, fmt.Errorf("begin the snapshot transaction: %w", err)
	}
	if _, err := s.tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+name+"'"); err != nil {
		_ = s.tx.Rollback(ctx)
		return nil, fmt.Errorf("import snapshot %s: %w", name, err)
	}
	return s, nil
}
