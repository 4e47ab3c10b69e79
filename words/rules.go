package words

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// A rule words one family of errors: it reports whether err belongs to it,
// and then sets out's headline (when err's own text is not the headline),
// hint and reprompt. Each failure gets one piece of advice, in the hint.
type rule func(f Flow, err error, out *Failure) bool

// rules, in order: the first that matches words the error. The gateway's
// refusal comes before the connection families, so that it gets the same
// words whatever path it came by.
var rules = []rule{
	Flow.stopped, Flow.usage, Flow.flowMismatch, Flow.locked, Flow.declined, Flow.state,
	Flow.gateway, Flow.tools, Flow.mismatch, Flow.keyChanged, Flow.targetRefused,
	Flow.downgrade, Flow.badKey, Flow.connect, Flow.noKey,
	Flow.fileExists, Flow.diskSpace, Flow.dumpChanged, Flow.reset, Flow.readDump,
	Flow.plan, Flow.sourceChanged, Flow.lost, Flow.stalled, Flow.entries, Flow.diskFull,
}

// again is the command to run again: "ppg migrate-from-ea again".
func (f Flow) again() string { return f.Command + " again" }

func (f Flow) stopped(err error, out *Failure) bool {
	if !errors.Is(err, context.Canceled) {
		return false
	}
	out.Headline = "stopped"
	return true
}

func (f Flow) usage(err error, out *Failure) bool {
	var ue UsageError
	if !errors.As(err, &ue) {
		return false
	}
	out.Hint = "run 'ppg --help' for usage"
	return true
}

func (f Flow) locked(err error, out *Failure) bool {
	var le *migrate.LockedError
	if !errors.As(err, &le) {
		return false
	}
	out.Headline = fmt.Sprintf("another ppg migration is running in this folder (%s)", le.Dir)
	out.Hint = "wait for it to finish, or stop it, then run ppg again"
	return true
}

func (f Flow) declined(err error, out *Failure) bool {
	if !errors.Is(err, migrate.ErrDeclined) {
		return false
	}
	out.Headline = "stopped at your request: nothing was changed"
	return true
}

// state words a state file this ppg cannot read.
func (f Flow) state(err error, out *Failure) bool {
	switch {
	case errors.Is(err, migrate.ErrStateVersion):
		out.Hint = "use the ppg that started this migration, or start over with " + f.Command + " --restart"
	case errors.Is(err, migrate.ErrStateDamaged):
		out.Hint = "start over with " + f.Command + " --restart"
	default:
		return false
	}
	return true
}

// gateway words Prisma's gateway refusing a connection, or unreachable,
// whether ppg saw it itself or a tool or session reported it (see
// migrate.GatewayRefusal).
func (f Flow) gateway(err error, out *Failure) bool {
	r := migrate.GatewayRefusal(err)
	if r == nil {
		return false
	}
	var he *tunnel.HandshakeError
	var ue *tunnel.UnreachableError
	switch {
	case errors.As(r, &ue):
		out.Headline = fmt.Sprintf("cannot reach Prisma's gateway at %s: %v", ue.Host(), ue.Err)
		out.Hint = "check the network connection (and PPG_WS_URL, if set), then run " + f.again()
	case errors.As(r, &he):
		f.handshake(he, out)
	}
	return true
}

// handshake words the gateway's answer to a WebSocket handshake.
func (f Flow) handshake(he *tunnel.HandshakeError, out *Failure) {
	out.Headline = he.Error()
	switch {
	case he.Unavailable():
		out.Headline = fmt.Sprintf("Prisma's gateway is unavailable (HTTP %d %s)%s", he.Status, http.StatusText(he.Status), requestID(he))
		out.Hint = "wait a few minutes, then run " + f.again()
	case he.Invalid():
		out.Reprompt = "copy the key again from the Prisma Console (or the DATABASE_URL of your .env)"
		out.Hint = "check the key: copy it again from the Prisma Console (or the DATABASE_URL of your .env), then run " + f.again()
	case he.NoDatabase():
		out.Reprompt = "use the API key of the environment that holds the database"
		out.Hint = out.Reprompt + ", then run " + f.again()
	default:
		out.Hint = "run " + f.again() + " in a moment; if the gateway refuses again, tell Prisma support its request id"
	}
}

func requestID(he *tunnel.HandshakeError) string {
	if he.RequestID == "" {
		return ""
	}
	return " (request id " + he.RequestID + ")"
}

func (f Flow) tools(err error, out *Failure) bool {
	if !errors.Is(err, pgtools.ErrNotFound) {
		return false
	}
	// Finder.Find's error for a --pg-bin folder without the tools carries
	// no *NotFoundError: the recommended version on this system.
	goos, major := runtime.GOOS, pgtools.RecommendedMajor
	var nf *pgtools.NotFoundError
	if errors.As(err, &nf) {
		goos, major = nf.GOOS, max(nf.MinMajor, pgtools.RecommendedMajor)
	}
	out.Hint = Install(goos, major) + "; then run " + f.again()
	return true
}

func (f Flow) mismatch(err error, out *Failure) bool {
	var ve *migrate.VerifyError
	if !errors.As(err, &ve) {
		return false
	}
	names := make([]string, len(ve.Mismatches))
	for i, m := range ve.Mismatches {
		names[i] = f.Mismatch(m)
	}
	out.Headline = fmt.Sprintf("the %s differs from the dump in %s: %s", f.Target,
		Plural(int64(len(ve.Mismatches)), "place", "places"), strings.Join(first(names, 10), "; "))
	out.Hint = "nothing was deleted; inspect the " + f.Target + ", then run " + f.Command + " --restart to migrate again into an empty " + f.Target
	if !f.Resumable {
		out.Hint = "nothing was deleted; inspect the " + f.Target + ", then restore again into an empty database"
	}
	return true
}

func (f Flow) keyChanged(err error, out *Failure) bool {
	var kc *migrate.KeyChangedError
	if !errors.As(err, &kc) {
		return false
	}
	out.Headline = fmt.Sprintf("this is not the key of the %s this migration started with", f.Side(kc.Side))
	out.Hint = "paste the same key as before, or start over with --restart"
	out.Reprompt = out.Hint
	return true
}

func (f Flow) targetRefused(err error, out *Failure) bool {
	var tr *migrate.TargetRefusedError
	if !errors.As(err, &tr) {
		return false
	}
	switch {
	case tr.Reason == migrate.RefuseIsSource && tr.SameKey:
		out.Headline = fmt.Sprintf("the %s was refused: this is the %s's key; the %s must be another database", f.Target, f.Source, f.Target)
		out.Hint = "paste the key of the new " + f.Target
		out.Reprompt = out.Hint
	case tr.Reason == migrate.RefuseIsSource:
		out.Headline = fmt.Sprintf("the %s was refused: it is the %s itself", f.Target, f.Source)
		out.Hint = "run again and paste the key of the new " + f.Target
	default:
		out.Headline = fmt.Sprintf("the %s was refused: it is not empty, and restoring into it was not confirmed", f.Target)
		out.Hint = "use an empty " + f.Target + ", or confirm (headless: --allow-non-empty-target); after a --restart, --reset-target empties a target the earlier run restored into; nothing was changed"
		out.Reprompt = "paste the key of an empty database, or type yes to restore into this one"
	}
	return true
}

func (f Flow) downgrade(err error, out *Failure) bool {
	var dwn *pgtools.DowngradeError
	if !errors.As(err, &dwn) {
		return false
	}
	out.Hint = fmt.Sprintf("restore into a PostgreSQL server at least as new as the %s (Prisma Postgres GA runs 17)", f.Source) + f.downgradeHint(dwn)
	return true
}

// badKey words a pasted value that is not a key: the problem, and what
// was expected.
func (f Flow) badKey(err error, out *Failure) bool {
	var ke *tunnel.KeyError
	if !errors.As(err, &ke) {
		return false
	}
	// The headline is err's text: where the value came from, if it says,
	// and what is wrong with it.
	out.Hint = "check the key, then run " + f.again()
	if ke.Hint != "" {
		out.Reprompt = ke.Hint
		out.Hint = ke.Hint + ", then run " + f.again()
	}
	return true
}

func (f Flow) connect(err error, out *Failure) bool {
	var ce *migrate.ConnectError
	if !errors.As(err, &ce) {
		return false
	}
	out.Headline = fmt.Sprintf("connect to the %s: %v", f.Side(ce.Side), ce.Err)
	out.Hint = "check the key or URL and the network, then run " + f.again()
	if ce.Auth {
		out.Headline = fmt.Sprintf("connect to the %s: the password in the URL was refused", f.Side(ce.Side))
		out.Reprompt = "check the user name and password in the URL (copy the URL again from the Prisma Console)"
		out.Hint = out.Reprompt + ", then run " + f.again()
	}
	return true
}

func (f Flow) noKey(err error, _ *Failure) bool { return errors.Is(err, ErrNoKey) }
