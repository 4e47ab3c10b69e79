package pgdb

import (
	"context"
	"fmt"
)

// partitionsSQL lists the user's partitioned tables that are no
// partition themselves (root is set), and the partitions at every level
// below them.
var partitionsSQL = `
	SELECT n.nspname, c.relname, NOT c.relispartition
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE (c.relkind = 'p' AND NOT c.relispartition OR c.relispartition AND c.relkind IN ('r', 'p'))
		AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_class", "c.oid")

func (d *DB) Partitions(ctx context.Context) (roots []Table, partitions map[string]bool, err error) {
	rows, err := d.conn.Query(ctx, partitionsSQL)
	if err != nil {
		return nil, nil, fmt.Errorf("list the partitioned tables: %w", err)
	}
	defer rows.Close()
	partitions = map[string]bool{}
	for rows.Next() {
		var t Table
		var root bool
		if err := rows.Scan(&t.Schema, &t.Name, &root); err != nil {
			return nil, nil, fmt.Errorf("list the partitioned tables: %w", err)
		}
		if root {
			roots = append(roots, t)
		} else {
			partitions[t.QualifiedName()] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list the partitioned tables: %w", err)
	}
	return roots, partitions, nil
}
