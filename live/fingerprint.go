package live

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Fingerprint is a table's content: its row count and the md5 of its rows'
// md5s, sorted (so a large table stays within PostgreSQL's string limit).
// Values are read as text under the package's session settings, the same
// on every server.
type Fingerprint struct {
	Rows int64
	MD5  string
}

// fingerprintSQL fingerprints one table (%s: its quoted name).
const fingerprintSQL = `SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '')
FROM (SELECT md5(t::text) AS h FROM ONLY %s t) s`

// Fingerprints reads the tables' fingerprints in the slot's exported
// snapshot: what the copy holds of them. The tables copied once
// (CopyOnce) are fingerprinted so, before Release, and again on both
// sides at cutover: a table that changed on the source since the copy was
// not carried over. source is the source's URL.
func (s *Snapshot) Fingerprints(ctx context.Context, source string, tables []Table) (map[Table]Fingerprint, error) {
	if s.conn == nil {
		return nil, fmt.Errorf("fingerprint in snapshot %s: released", s.Name)
	}
	return fingerprints(ctx, source, s.Name, tables)
}

// Fingerprints reads the tables' fingerprints as they are now, on the
// database at url.
func Fingerprints(ctx context.Context, url string, tables []Table) (map[Table]Fingerprint, error) {
	return fingerprints(ctx, url, "", tables)
}

// fingerprints reads the tables in one read-only transaction, in the
// exported snapshot named snapshot if not empty.
func fingerprints(ctx context.Context, url, snapshot string, tables []Table) (map[Table]Fingerprint, error) {
	conn, err := connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to fingerprint tables: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	out := map[Table]Fingerprint{}
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if snapshot != "" {
			if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(snapshot)); err != nil {
				return fmt.Errorf("use snapshot %s: %w", snapshot, err)
			}
		}
		for _, t := range tables {
			var f Fingerprint
			if err := tx.QueryRow(ctx, fmt.Sprintf(fingerprintSQL, t.Sanitize())).Scan(&f.Rows, &f.MD5); err != nil {
				return fmt.Errorf("fingerprint %s: %w", t, err)
			}
			out[t] = f
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
