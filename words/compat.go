package words

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

// The sentences of a PostgreSQL 18 source going into a 17 target (the
// translation), and of the target's own rules (row security, standby).

// compatItem is the sentence of a plan item of the 18-into-17 check or of
// row security; ok is false for other items.
func (f Flow) compatItem(it migrate.CheckItem) (s string, ok bool) {
	k, ok := migrate.CompatOf(it.Code)
	if !ok {
		return "", false
	}
	objs := strings.Join(first(it.Names, 8), ", ")
	if k == migrate.CompatRowSecurity && it.Verdict == migrate.VerdictOK {
		return fmt.Sprintf("%s row security (%s): whether the %s's role bypasses it is checked when its key is given",
			Plural(int64(len(it.Names)), "table has", "tables have"), objs, f.Target), true
	}
	if k == migrate.CompatRowSecurity {
		return fmt.Sprintf("%s row security (%s): the policies are restored, but the %s's role is a superuser or has BYPASSRLS, "+
			"so they will not restrict an application that connects as that role (Prisma Postgres's role is such a restricted superuser); "+
			"to have them apply, connect your application as a role without those rights",
			Plural(int64(len(it.Names)), "table has", "tables have"), objs, f.Target), true
	}
	to := "PostgreSQL 17"
	if it.Target > 0 {
		to = fmt.Sprintf("PostgreSQL %d", it.Target/10000)
	}
	what := f.compatWhat(k, it, to)
	switch it.Verdict {
	case migrate.VerdictBlocks:
		return fmt.Sprintf("%s: %s", objs, what), true
	case migrate.VerdictWarn:
		return fmt.Sprintf("%s: %s (this blocks only if the %s runs an older PostgreSQL than the %s)", objs, what, f.Target, f.Source), true
	case migrate.VerdictOK, migrate.VerdictHandled:
	}
	return fmt.Sprintf("%s: %s", objs, what), true
}

// compatWhat says what becomes of the objects of kind k, or, for the kinds
// that block, why and what the user can do.
func (f Flow) compatWhat(k migrate.CompatKind, it migrate.CheckItem, to string) string {
	skipped := "their statements go to " + filepath.Base(it.Path)
	switch k {
	case migrate.CompatVirtualColumn:
		return "virtual generated columns become stored ones (the same values, now stored on disk; " + to + " has no virtual ones)"
	case migrate.CompatNotNullNamed:
		return "named NOT NULL constraints become plain NOT NULL columns (" + to + " does not name them)"
	case migrate.CompatNotNullNotValid:
		return "NOT VALID NOT NULL constraints become NOT VALID CHECK (column IS NOT NULL) constraints of the same name " +
			"(new rows are checked, existing ones are not, as before)"
	case migrate.CompatNotNullNoInherit:
		if it.Verdict == migrate.VerdictBlocks {
			return "NOT NULL NO INHERIT on tables with inheritance children (marked): " + to + "'s NOT NULL would reach the children; " +
				"drop the constraint on the " + f.Source + " (or make it a CHECK (column IS NOT NULL) NO INHERIT) and run ppg again"
		}
		return "NOT NULL NO INHERIT becomes a plain NOT NULL (the tables have no inheritance children)"
	case migrate.CompatNotEnforced:
		return "NOT ENFORCED constraints are left out: they check nothing, and " + to + " has no such form; " + skipped
	case migrate.CompatTemporalKey:
		if it.Verdict == migrate.VerdictHandled {
			return "temporal keys (WITHOUT OVERLAPS) become exclusion constraints that refuse the same rows, as you accepted; they are no longer primary or unique keys"
		}
		return to + " has no temporal keys (WITHOUT OVERLAPS): drop them on the " + f.Source + ", or accept them as exclusion constraints " +
			"(the same rows refused, no longer a primary or unique key) with --accept-downgrade=temporal-keys"
	case migrate.CompatTemporalForeignKey:
		if it.Verdict == migrate.VerdictHandled {
			return "temporal foreign keys (PERIOD) are left out, as you accepted; " + skipped
		}
		return to + " has no temporal foreign keys (PERIOD): drop them on the " + f.Source + ", or leave them out with --accept-downgrade=temporal-keys"
	case migrate.CompatNewFunction:
		return "they use functions new in PostgreSQL 18, which " + to + " lacks: rewrite them on the " + f.Source +
			" without those functions (uuidv4() is gen_random_uuid() in 17; uuidv7(), casefold() and array_sort() have no 17 equivalent) and run ppg again"
	case migrate.CompatUnicodeFast:
		return "they use the PG_UNICODE_FAST collation, which " + to + " lacks: change them to another collation on the " + f.Source +
			" (PG_C_UTF8 is the nearest, with simpler case mapping) and run ppg again"
	case migrate.CompatNotValidPartitionedFK:
		return "NOT VALID foreign keys on partitioned tables, which " + to + " refuses: validate them on the " + f.Source +
			" (ALTER TABLE ... VALIDATE CONSTRAINT ...) or drop them, and run ppg again"
	case migrate.CompatDatabaseCollation:
		return "the " + f.Source + "'s default collation is PG_UNICODE_FAST, which " + to + " lacks: text without a collation of its own " +
			"takes the " + f.Target + "'s default collation, which may sort and compare case differently"
	case migrate.CompatRowSecurity:
		return "" // compatItem says it
	case migrate.CompatReturningOldNew:
		return "they use OLD or NEW in RETURNING, which " + to + " cannot parse: rewrite them on the " + f.Source + " and run ppg again"
	}
	return fmt.Sprintf("a construct this version of ppg cannot describe (%q)", string(k))
}

// rowSecurityNotice is the sentence of NoticeRowSecurityBypassed.
func (f Flow) rowSecurityNotice(n *migrate.Notice) string {
	return fmt.Sprintf("row security of %s is restored, but the %s's role bypasses it: the policies will not restrict an application that connects as that role",
		strings.Join(first(n.Names, 10), ", "), f.Target)
}

// compatNotice is the sentence of a notice about the translation; ok is
// false for other notices.
func (f Flow) compatNotice(n *migrate.Notice) (s string, ok bool) {
	objs := strings.Join(first(n.Names, 10), ", ")
	k, ok := migrate.TranslatedOf(n.Code)
	if !ok {
		return "", false
	}
	switch k {
	case pgtools.ChangeVirtualToStored:
		return "translated for the older " + f.Target + ": virtual generated columns made stored (same values): " + objs, true
	case pgtools.ChangeNotNullNoInherit:
		return "translated for the older " + f.Target + ": NOT NULL NO INHERIT made plain NOT NULL: " + objs, true
	case pgtools.ChangeNotNullNotValid:
		return "translated for the older " + f.Target + ": NOT VALID NOT NULL constraints made NOT VALID CHECK constraints: " + objs, true
	case pgtools.ChangeNotNullNamed:
		return "translated for the older " + f.Target + ": named NOT NULL constraints made plain NOT NULL: " + objs, true
	case pgtools.ChangeTemporalToExclusion:
		return "translated for the older " + f.Target + ": temporal keys made exclusion constraints: " + objs, true
	}
	return fmt.Sprintf("translated for the older %s in a way this version of ppg cannot describe (%q): %s", f.Target, string(k), objs), true
}

// rowSecurityCutover is the end's reminder that the restored policies do
// not restrict the target's role.
func (f Flow) rowSecurityCutover(v *migrate.VerifySummary) []string {
	if v == nil || len(v.RowSecurityBypassed) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("Row security of %s was restored, but the %s's role bypasses it (a superuser or BYPASSRLS): "+
		"the policies will not restrict an application that connects as that role; connect it as a role without those rights if it relies on them.",
		strings.Join(first(v.RowSecurityBypassed, 5), ", "), f.Target)}
}

// skippedDowngrade is Skipped when the translation for an older target
// left objects out: those are said apart (there is nothing to run later);
// ok is false when it left none out.
func (f Flow) skippedDowngrade(r *migrate.RestoreSummary) (string, bool) {
	var down, rest []migrate.SkippedObject
	for _, s := range r.Skipped {
		if s.Downgrade {
			down = append(down, s)
		} else {
			rest = append(rest, s)
		}
	}
	if len(down) == 0 {
		return "", false
	}
	var names []string
	for _, s := range down {
		names = append(names, strings.ToLower(s.Desc)+" "+s.Schema+"."+s.Name)
	}
	file := r.SkippedFile
	if file == "" {
		file = migrate.SkippedFileName
	}
	t := fmt.Sprintf("%s left out by the translation for the older %s (%s): it has no form for them; their statements are kept in %s",
		Plural(int64(len(down)), "object was", "objects were"), f.Target, strings.Join(first(names, 5), ", "), file)
	if len(rest) == 0 {
		return t, true
	}
	others := *r
	others.Skipped = rest
	return f.Skipped(&others) + "; " + t, true
}

// Translated notes, after an object count of the verification, how many
// of the difference the translation for an older target made ("  (1 fewer
// by the translation, not missing)"); empty when none.
func Translated(o migrate.ObjectCheck) string {
	switch {
	case o.Translated < 0:
		return fmt.Sprintf("  (%d fewer by the translation, not missing)", -o.Translated)
	case o.Translated > 0:
		return fmt.Sprintf("  (%d more by the translation)", o.Translated)
	}
	return ""
}

// oldestTarget is the oldest major version a source of major version
// source can go into: one older when the dump is translated for it.
func oldestTarget(source int) int {
	if pgtools.Translates(source, source-1) {
		return source - 1
	}
	return source
}

// downgradeHint adds to a refused downgrade's hint that a source on 18 can
// go into 17.
func (f Flow) downgradeHint(e *pgtools.DowngradeError) string {
	if o := oldestTarget(e.From); o < e.From {
		return fmt.Sprintf("; a %s on PostgreSQL %d can also go into %d, translated", f.Source, e.From, o)
	}
	return ""
}

// versionsNote is added to the versions item when the source is newer
// than the target and the dump is translated for it.
func (f Flow) versionsNote(it migrate.CheckItem) string {
	if it.Verdict == migrate.VerdictBlocks || !pgtools.Translates(it.Source/10000, it.Target/10000) {
		return ""
	}
	return fmt.Sprintf("; the %s is one version older: pg_dump %d dumps it, and what PostgreSQL %d cannot hold is translated or named below",
		f.Target, it.Source/10000, it.Target/10000)
}

// standbyNote is the slow-connect notice's last reason: an idle Prisma
// Postgres database.
const standbyNote = "; an idle Prisma Postgres database goes into standby, and its first connection can take several seconds"
