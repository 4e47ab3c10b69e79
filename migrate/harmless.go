package migrate

import (
	"strings"

	"github.com/ppg-cli/ppg/pgtools"
)

// harmlessRule is a pg_restore error known to do no harm to this
// migration, with the reason.
type harmlessRule struct {
	reason string
	match  func(l pgtools.Line, restoreMajor, targetMajor int) bool
}

// harmlessRules lists the pg_restore errors reported as warnings rather
// than failures. Anything else fails the step with the tool's message.
var harmlessRules = [...]harmlessRule{
	{
		reason: "pg_restore 17 sets transaction_timeout, which servers before 17 do not know; nothing depends on it",
		match:  pgtools.HarmlessError,
	},
	{
		reason: "the comment of an extension the GA database already has (such as plpgsql) belongs to its owner; only the comment is lost",
		match: func(l pgtools.Line, _, _ int) bool {
			return strings.Contains(l.Message, "must be owner of extension") && strings.HasPrefix(strings.TrimSpace(l.Command), "COMMENT ON EXTENSION")
		},
	},
	{
		reason: "dumps of servers before 15 create the public schema, which every database already has",
		match: func(l pgtools.Line, _, _ int) bool {
			return strings.Contains(l.Message, `schema "public" already exists`)
		},
	},
}

// harmless returns the reason an error is harmless, or "".
func harmless(l pgtools.Line, restoreMajor, targetMajor int) string {
	for _, r := range harmlessRules {
		if r.match(l, restoreMajor, targetMajor) {
			return r.reason
		}
	}
	return ""
}
