package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// headlessPrompter answers the engine from flags, files and the
// environment. It cannot ask again: a refused key ends the run with the
// reason and where the key came from.
type headlessPrompter struct {
	env    map[migrate.Side]string    // the environment variables
	flags  map[migrate.Side]string    // the key-file flags' names, for messages
	files  map[migrate.Side]string    // key files given by flag
	values map[migrate.Side]keySource // --from and --to
	getenv func(string) string
}

// lookup returns the key for side and where it came from; "" when none is
// given.
func (p *headlessPrompter) lookup(side migrate.Side) (value, from string, err error) {
	read := func(path string) (string, string, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", path, fmt.Errorf("%w for the %s: read %s: %v", words.ErrNoKey, side, path, err)
		}
		return string(data), path, nil
	}
	if ks, ok := p.values[side]; ok {
		switch {
		case ks.env != "":
			return p.getenv(ks.env), ks.env, nil
		case ks.file != "":
			return read(ks.file)
		}
		return ks.value, "the command line", nil
	}
	if path := p.files[side]; path != "" {
		return read(path)
	}
	return p.getenv(p.env[side]), p.env[side], nil
}

func (p *headlessPrompter) Key(_ context.Context, side migrate.Side, problem error) (string, error) {
	v, from, err := p.lookup(side)
	if err != nil {
		return "", err
	}
	if problem != nil {
		return "", &words.SourcedError{From: from, Side: side, Err: problem}
	}
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%w for the %s: set %s, or pass %s", words.ErrNoKey, side, p.env[side], p.flags[side])
	}
	return v, nil
}

// EarlyKey gives the key now if it is set, else says it comes later.
func (p *headlessPrompter) EarlyKey(ctx context.Context, side migrate.Side, problem error) (string, error) {
	v, _, err := p.lookup(side)
	if problem == nil && (errors.Is(err, words.ErrNoKey) || err == nil && strings.TrimSpace(v) == "") {
		return "", migrate.ErrLater
	}
	return p.Key(ctx, side, problem)
}

func (p *headlessPrompter) Confirm(_ context.Context, q migrate.Question) (bool, error) {
	switch q.Kind {
	case migrate.ConfirmSource:
		// Headless runs go on with the source they were given.
		return true, nil
	case migrate.ConfirmRedump, migrate.ConfirmSourceChanged:
		// Writes after the snapshot are --on-source-change's to decide,
		// which the engine reads itself: an answer made up here would be
		// a choice nobody made.
		return false, errNoOneToAsk
	default:
		// Everything else needs an explicit flag, which the engine reads
		// itself.
		return false, nil
	}
}

// errNoOneToAsk is a question only --on-source-change answers, asked of a
// run that cannot ask.
var errNoOneToAsk = errors.New("the source was written to after the dump's snapshot and there is no one to ask: set --on-source-change")

// credentialPrompter answers the engine with one credential, once: the
// one-shot commands have nobody to ask again.
type credentialPrompter struct {
	raw           string
	from          string
	allowNonEmpty bool
}

func (p credentialPrompter) Key(_ context.Context, side migrate.Side, problem error) (string, error) {
	if problem != nil {
		return "", &words.SourcedError{From: p.from, Side: side, Err: problem}
	}
	return p.raw, nil
}

func (p credentialPrompter) Confirm(_ context.Context, q migrate.Question) (bool, error) {
	return q.Kind == migrate.ConfirmSource || (q.Kind == migrate.ConfirmNonEmptyTarget && p.allowNonEmpty), nil
}
