package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// liveFlags are the flags of a live migration.
type liveFlags struct {
	live     bool
	identity string
	abandon  bool
}

func (l *liveFlags) add(fl *pflag.FlagSet) {
	fl.BoolVar(&l.live, "live", false, "live migration: the application keeps writing while the data moves; the changes stream until 'ppg cutover' (downtime: the cutover alone)")
	fl.StringVar(&l.identity, "replica-identity-full", "", "with --live: tables without a primary key (schema.table,...) or all, to set REPLICA IDENTITY FULL on the source so their changes stream; the others are copied once and checked at cutover")
	fl.BoolVar(&l.abandon, "abandon-live", false, "give up the live migration in --dir: drop its replication slot and publication on the source (and its bookkeeping on the target)")
}

// apply sets the engine's live options, or returns a usage error.
func (l *liveFlags) apply(cfg *migrate.Config) error {
	if l.identity != "" && !l.live {
		return words.UsageError{Err: errors.New("--replica-identity-full goes with --live")}
	}
	if !l.live {
		return nil
	}
	opts := &migrate.LiveOptions{}
	for _, t := range strings.Split(l.identity, ",") {
		switch t = strings.TrimSpace(t); t {
		case "":
		case "all":
			opts.AllFullIdentity = true
		default:
			opts.FullIdentity = append(opts.FullIdentity, t)
		}
	}
	cfg.Live = opts
	return nil
}

// liveAbandoner is the engine's AbandonLive.
type liveAbandoner interface {
	AbandonLive(ctx context.Context, emit func(migrate.Event)) (*migrate.AbandonReport, error)
}

// abandonLive drops the live migration's slot and publication and says so.
func abandonLive(ctx context.Context, eng engine, rep *reporter) error {
	ab, ok := eng.(liveAbandoner)
	if !ok {
		return errors.New("this engine cannot abandon a live migration")
	}
	r, err := ab.AbandonLive(ctx, rep.event)
	if err != nil {
		return err
	}
	rep.printf("Abandoned the live migration: replication slot %s and publication %s dropped on the source", r.Slot, r.Publication)
	if len(r.IdentityRestored) > 0 {
		rep.printf(", REPLICA IDENTITY set back to DEFAULT on %s", strings.Join(r.IdentityRestored, ", "))
	}
	rep.printf(". Nothing of it holds WAL any more.\n")
	return nil
}

// liveStatusLine is the headless line of a stream status event.
func liveStatusLine(ev migrate.Event) (string, bool) {
	if ev.Live == nil {
		return "", false
	}
	return words.LiveStatus(ev.Live), true
}
