package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

// headlessPrompter answers the engine from the environment and flags. It
// cannot ask again: a refused key ends the run with the reason and where
// the key came from.
type headlessPrompter struct {
	files map[migrate.Side]string // key files given by flag
	env   map[migrate.Side]string // else these environment variables
	flag  map[migrate.Side]string // the flags' names, for the message
}

func (p *headlessPrompter) Key(_ context.Context, side migrate.Side, problem error) (string, error) {
	name := p.env[side]
	from := name
	v := os.Getenv(name)
	if path := p.files[side]; path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%w for the %s: read %s: %v", words.ErrNoKey, side, path, err)
		}
		v, from = string(data), path
	}
	if problem != nil {
		return "", &words.SourcedError{From: from, Side: side, Err: problem}
	}
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%w for the %s: set %s, or pass %s", words.ErrNoKey, side, name, p.flag[side])
	}
	return v, nil
}

func (p *headlessPrompter) Confirm(_ context.Context, q migrate.Question) (bool, error) {
	// Headless runs go on with the source they were given; everything
	// else needs an explicit flag, which the engine reads itself.
	return q.Kind == migrate.ConfirmSource, nil
}

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

// keyFrom reads the credential of the one-shot commands: a key file if
// given, else PDP_API_KEY then DATABASE_URL from the environment or ./.env.
func keyFrom(file string) (raw, from string, err error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", "", fmt.Errorf("read the key file: %w", err)
		}
		return string(data), file, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	cred, from, err := tunnel.LoadKey(os.LookupEnv, dir)
	if err != nil {
		return "", "", err
	}
	if cred.Direct() {
		return cred.URL, from, nil
	}
	return cred.APIKey, from, nil
}
