package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// ErrTargetRefused means the target was refused: not empty without
// confirmation, or the source itself.
var ErrTargetRefused = errors.New("the GA database was refused")

// ErrDeclined means the user answered no to a question the migration
// cannot go on without.
var ErrDeclined = errors.New("stopped at your request")

func (e *Engine) checkTools(ctx context.Context) (string, error) {
	if err := e.ensureTools(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s and %s", e.tools.Dump, e.tools.Restore), nil
}

// ensureTools finds the tools once per run (a resumed run finds them again:
// they may have been upgraded meanwhile).
func (e *Engine) ensureTools(ctx context.Context) error {
	if e.tools.Dump.Path != "" {
		return nil
	}
	found, err := e.cfg.Finder.Find(ctx)
	if err != nil {
		return err
	}
	e.found = found
	minMajor := 0
	if e.state.Source != nil {
		minMajor = e.state.Source.ServerVersion / 10000
	}
	ts, err := pgtools.Choose(found, minMajor)
	if err != nil {
		return err
	}
	e.tools = ts
	return nil
}

// openSide asks for side's key until one opens a connection, or the
// prompter gives up. On a resumed migration the key must be the one the
// migration started with, and the target must never be the source.
func (e *Engine) openSide(ctx context.Context, side Side) (*endpoint, error) {
	var problem error
	for {
		raw, err := e.ask.Key(ctx, side, problem)
		if err != nil {
			return nil, err
		}
		cred, err := tunnel.ParseKey(raw)
		if err != nil {
			problem = err
			continue
		}
		hash := e.state.HashKey(secretOf(cred))
		if rec := e.record(side); rec != nil && rec.KeyHash != "" && rec.KeyHash != hash {
			problem = withHint(fmt.Errorf("this is not the key of the %s this migration started with", side),
				"paste the same key as before, or start over with --restart")
			continue
		}
		if side == Target && e.state.Source != nil && e.state.Source.KeyHash == hash {
			problem = withHint(fmt.Errorf("%w: this is the EA database's key; the GA database must be another database", ErrTargetRefused),
				"paste the key of the new GA database")
			continue
		}
		ep, err := openEndpoint(ctx, side, cred, e.cfg.Tunnel)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			problem = err
			continue
		}
		return ep, nil
	}
}

func secretOf(c tunnel.Credential) string {
	if c.Direct() {
		return c.URL
	}
	return c.APIKey
}

func (e *Engine) record(side Side) *Database {
	if side == Source {
		return e.state.Source
	}
	return e.state.Target
}

func describe(ep *endpoint, info ServerInfo, hash string) *Database {
	kind := "api-key"
	if ep.cred.Direct() {
		kind = "direct"
	}
	return &Database{
		KeyHash:       hash,
		Kind:          kind,
		Display:       ep.cred.String(),
		ServerVersion: info.VersionNum,
		Size:          info.Size,
		SystemID:      info.SystemID,
		DatabaseOID:   info.DatabaseOID,
	}
}

func (e *Engine) connectSource(ctx context.Context) (string, error) {
	if err := e.ensureTools(ctx); err != nil {
		return "", err
	}
	e.src.Close()
	e.src = nil
	ep, err := e.openSide(ctx, Source)
	if err != nil {
		return "", err
	}
	e.src = ep
	info, err := readServerInfo(ctx, ep.db)
	if err != nil {
		return "", err
	}
	if e.tools, err = pgtools.Choose(e.found, info.Major()); err != nil {
		return "", err
	}
	tables, err := listTables(ctx, ep.db)
	if err != nil {
		return "", err
	}
	db := describe(ep, info, e.state.HashKey(secretOf(ep.cred)))
	db.Tables = len(tables)
	for _, t := range tables {
		db.EstimatedRows += max(t.EstimatedRows, 0)
	}
	summary := fmt.Sprintf("PostgreSQL %s, %s, %d tables, about %s rows",
		versionString(info.VersionNum), FormatBytes(info.Size), db.Tables, formatCount(db.EstimatedRows))
	ok, err := e.ask.Confirm(ctx, Question{
		Kind:    ConfirmSource,
		Text:    "Dump this EA database?",
		Details: []string{ep.cred.String(), summary, fmt.Sprintf("Tools: %s, %s", e.tools.Dump, e.tools.Restore)},
	})
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrDeclined
	}
	e.state.Source = db
	return summary, nil
}

// ensureSource opens the source for a step after connect-source (a resumed
// run asks for the key again: keys are never stored).
func (e *Engine) ensureSource(ctx context.Context) (*endpoint, error) {
	if e.src != nil {
		return e.src, nil
	}
	ep, err := e.openSide(ctx, Source)
	if err != nil {
		return nil, err
	}
	e.src = ep
	return ep, nil
}

// ensureTarget opens the target for a step after connect-target.
func (e *Engine) ensureTarget(ctx context.Context) (*endpoint, error) {
	if e.dst != nil {
		return e.dst, nil
	}
	ep, err := e.openSide(ctx, Target)
	if err != nil {
		return nil, err
	}
	e.dst = ep
	return ep, nil
}

func (e *Engine) connectTarget(ctx context.Context) (string, error) {
	e.dst.Close()
	e.dst = nil
	// The source is no longer needed: free its tunnel.
	e.src.Close()
	e.src = nil
	ep, err := e.openSide(ctx, Target)
	if err != nil {
		return "", err
	}
	e.dst = ep
	info, err := readServerInfo(ctx, ep.db)
	if err != nil {
		return "", err
	}
	src := e.state.Source
	if src != nil && info.SystemID != "" && info.SystemID == src.SystemID && info.DatabaseOID == src.DatabaseOID {
		e.dst.Close()
		e.dst = nil
		return "", withHint(fmt.Errorf("%w: it is the EA database itself", ErrTargetRefused), "run again and paste the key of the new GA database")
	}
	if src != nil && info.Major() < src.ServerVersion/10000 {
		return "", withHint(&pgtools.DowngradeError{From: src.ServerVersion / 10000, To: info.Major()},
			"restore into a PostgreSQL server at least as new as the EA database (Prisma Postgres GA runs 17)")
	}
	db := describe(ep, info, e.state.HashKey(secretOf(ep.cred)))
	db.Empty = info.UserObjects == 0 && len(info.UserSchemas) == 0
	summary := fmt.Sprintf("PostgreSQL %s, %s", versionString(info.VersionNum), FormatBytes(info.Size))
	if prev := e.state.Target; !db.Empty && prev != nil && prev.Empty && prev.KeyHash == db.KeyHash &&
		e.state.Restore != nil && len(e.state.Restore.StartedSections) > 0 {
		// What the target holds is this migration's interrupted restore:
		// the restore step empties it and starts again.
		db.Empty = true
		e.state.Target = db
		return summary + ", holding this migration's interrupted restore (it will be restored again)", nil
	}
	if !db.Empty {
		details := []string{
			fmt.Sprintf("The GA database already holds %d objects (tables, types, functions).", info.UserObjects),
		}
		if len(info.UserSchemas) > 0 {
			details = append(details, "Schemas: "+strings.Join(info.UserSchemas, ", "))
		}
		details = append(details, "Restoring into it fails where names collide, and its data would mix with the EA data.")
		ok := e.cfg.AllowNonEmptyTarget
		if !ok {
			ok, err = e.ask.Confirm(ctx, Question{Kind: ConfirmNonEmptyTarget, Text: "Restore into a GA database that is not empty?", Details: details})
			if err != nil {
				return "", err
			}
		}
		if !ok {
			return "", withHint(fmt.Errorf("%w: it is not empty, and restoring into it was not confirmed", ErrTargetRefused),
				"use an empty GA database, or confirm (headless: --allow-non-empty-target); nothing was changed")
		}
		db.ConfirmedNonEmpty = true
		summary += ", not empty (confirmed)"
	} else {
		summary += ", empty"
	}
	e.state.Target = db
	return summary, nil
}

func versionString(num int) string {
	return fmt.Sprintf("%d.%d", num/10000, num%10000)
}

// FormatBytes writes a size in decimal units ("1.2 GB"), as the engine's
// summaries do; front ends use it to match them.
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

func formatCount(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
