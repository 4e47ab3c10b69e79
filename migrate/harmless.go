package migrate

import (
	"strings"

	"github.com/ppg-cli/ppg/pgtools"
)

// HarmlessReason names why a pg_restore error does no harm; the front ends
// explain each.
type HarmlessReason string

// The harmless errors.
const (
	// HarmlessTransactionTimeout: pg_restore 17 sets transaction_timeout,
	// which servers before 17 do not know; nothing depends on it.
	HarmlessTransactionTimeout HarmlessReason = "transaction_timeout"
	// HarmlessExtensionComment: the comment of an extension the target
	// already has (such as plpgsql) belongs to its owner; only the
	// comment is lost.
	HarmlessExtensionComment HarmlessReason = "extension_comment"
	// HarmlessPublicSchema: dumps of servers before 15 create the public
	// schema, which every database already has.
	HarmlessPublicSchema HarmlessReason = "public_schema"
)

// harmlessRule is a pg_restore error known to do no harm to this
// migration, with the reason.
type harmlessRule struct {
	reason HarmlessReason
	match  func(l pgtools.Line, restoreMajor, targetMajor int) bool
}

// harmlessRules lists the pg_restore errors reported as warnings rather
// than failures. Anything else fails the step with the tool's message.
var harmlessRules = [...]harmlessRule{
	{
		reason: HarmlessTransactionTimeout,
		match:  pgtools.HarmlessError,
	},
	{
		reason: HarmlessExtensionComment,
		match: func(l pgtools.Line, _, _ int) bool {
			return strings.Contains(l.Message, "must be owner of extension") && strings.HasPrefix(strings.TrimSpace(l.Command), "COMMENT ON EXTENSION")
		},
	},
	{
		reason: HarmlessPublicSchema,
		match: func(l pgtools.Line, _, _ int) bool {
			return strings.Contains(l.Message, `schema "public" already exists`)
		},
	},
}

// harmless returns the reason an error is harmless, or "".
func harmless(l pgtools.Line, restoreMajor, targetMajor int) HarmlessReason {
	for _, r := range harmlessRules {
		if r.match(l, restoreMajor, targetMajor) {
			return r.reason
		}
	}
	return ""
}
