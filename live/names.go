package live

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Table is a table's schema-qualified name.
type Table struct {
	Schema, Name string
}

// Sanitize returns the table's name quoted for SQL.
func (t Table) Sanitize() string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

// String returns schema.name, unquoted, for facts and logs.
func (t Table) String() string { return t.Schema + "." + t.Name }

// Names are the names of what a live migration creates: the replication
// slot and the publication on the source. Both identify the migration, so
// a forgotten slot can be traced to it.
type Names struct {
	Slot        string
	Publication string
}

// nameRE is what a replication slot's name may hold.
var nameRE = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// NamesFor returns the names of the migration whose ID is id: "ppg_" and
// the ID's letters and digits, lower case, at most 63 characters.
func NamesFor(id string) Names {
	var b strings.Builder
	b.WriteString("ppg_")
	for _, r := range strings.ToLower(id) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		}
		if b.Len() == 63 {
			break
		}
	}
	n := b.String()
	return Names{Slot: n, Publication: n}
}

// check reports names a slot or publication cannot take.
func (n Names) check() error {
	if !nameRE.MatchString(n.Slot) {
		return fmt.Errorf("slot name %q: %w", n.Slot, ErrBadName)
	}
	if !nameRE.MatchString(n.Publication) {
		return fmt.Errorf("publication name %q: %w", n.Publication, ErrBadName)
	}
	return nil
}
