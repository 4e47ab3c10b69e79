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
	// HarmlessResumed: an object that a resumed restore finds already made,
	// by the interrupted run, in a target that held nothing before.
	HarmlessResumed HarmlessReason = "resumed"
)

// harmlessContext is what a rule may depend on.
type harmlessContext struct {
	restoreMajor, targetMajor int
	// ours is set when every object in the target is this migration's:
	// a resumed section of a target that was empty.
	ours bool
}

// harmlessRule is a pg_restore error known to do no harm to this
// migration, with the reason.
type harmlessRule struct {
	reason HarmlessReason
	match  func(l pgtools.Line, c harmlessContext) bool
}

// harmlessRules lists the pg_restore errors reported as warnings rather
// than failures. Anything else fails the step with the tool's message.
var harmlessRules = [...]harmlessRule{
	{
		reason: HarmlessTransactionTimeout,
		match: func(l pgtools.Line, c harmlessContext) bool {
			return pgtools.HarmlessError(l, c.restoreMajor, c.targetMajor)
		},
	},
	{
		reason: HarmlessExtensionComment,
		match: func(l pgtools.Line, _ harmlessContext) bool {
			return strings.Contains(l.Message, "must be owner of extension") && strings.HasPrefix(strings.TrimSpace(l.Command), "COMMENT ON EXTENSION")
		},
	},
	{
		reason: HarmlessPublicSchema,
		match: func(l pgtools.Line, _ harmlessContext) bool {
			return strings.Contains(l.Message, `schema "public" already exists`)
		},
	},
	{
		reason: HarmlessResumed,
		match: func(l pgtools.Line, c harmlessContext) bool {
			return c.ours && strings.Contains(l.Message, " already exists")
		},
	},
}

// harmless returns the reason an error is harmless, or "".
func harmless(l pgtools.Line, c harmlessContext) HarmlessReason {
	for _, r := range harmlessRules {
		if r.match(l, c) {
			return r.reason
		}
	}
	return ""
}
