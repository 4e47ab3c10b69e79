package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tui"
	"github.com/ppg-cli/ppg/tunnel"
)

// engine is what the commands run: a *migrate.Engine, or a fake in tests.
type engine interface {
	Preflight(ctx context.Context) (*migrate.Plan, error)
	Run(ctx context.Context, emit func(migrate.Event)) error
	Backup(ctx context.Context, out string, emit func(migrate.Event)) (*migrate.DumpInfo, error)
	RestoreFile(ctx context.Context, file string, emit func(migrate.Event)) error
}

// ioStreams are a command's input and outputs.
type ioStreams struct {
	in          io.Reader
	out, errOut io.Writer
	// isTerminal reports whether the input and the output are both
	// terminals: the wizard needs both.
	isTerminal func() bool
}

// deps is what a command takes from the process it runs in: its streams,
// environment, working folder and clock, and the constructors of what it
// drives. Each command's options embed a copy, as cli/cli's options copy
// their Factory's fields; processDeps fills it from the process, tests
// with fakes. Nothing else in cli reads the process's state.
type deps struct {
	io        ioStreams
	lookupEnv func(string) (string, bool)
	getwd     func() (string, error)
	now       func() time.Time
	newEngine func(migrate.Config, migrate.Prompter) engine
	// wizard runs the interactive wizard (tui.Run).
	wizard func(context.Context, tui.Options) error
	build  Build
}

// processDeps are the process's own: its environment and working folder,
// stdin, the given outputs, and the real engine and wizard.
func processDeps(b Build, stdout, stderr io.Writer) deps {
	return deps{
		io: ioStreams{in: os.Stdin, out: stdout, errOut: stderr, isTerminal: func() bool {
			return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
		}},
		lookupEnv: os.LookupEnv,
		getwd:     os.Getwd,
		now:       time.Now,
		newEngine: func(cfg migrate.Config, p migrate.Prompter) engine { return migrate.New(cfg, p) },
		wizard:    tui.Run,
		build:     b,
	}
}

// getenv is the variable's value, "" if unset.
func (d deps) getenv(name string) string {
	v, _ := d.lookupEnv(name)
	return v
}

// engineConfig is the engine's configuration for the flags: pgBin ""
// means $PPG_PG_BIN.
func (d deps) engineConfig(dir, pgBin string, jobs int) migrate.Config {
	if pgBin == "" {
		pgBin = d.getenv(envPGBin)
	}
	return migrate.Config{
		Dir:    dir,
		Finder: pgtools.Finder{Dir: pgBin},
		Tunnel: tunnel.Config{UserAgent: d.build.userAgent()},
		Jobs:   jobs,
		// PPG_RELAY=off runs pg_dump without the relay: for comparison,
		// and as a way out should the relay ever fail where pg_dump alone
		// would not.
		NoRelay: d.getenv(envRelay) == "off",
	}
}

// envRelay switches the relay in front of pg_dump off when "off".
const envRelay = "PPG_RELAY"

// keyFrom reads the credential of the one-shot commands: a key file if
// given, else PDP_API_KEY then DATABASE_URL from the environment or the
// working folder's .env.
func (d deps) keyFrom(file string) (raw, from string, err error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", "", fmt.Errorf("read the key file: %w", err)
		}
		return string(data), file, nil
	}
	dir, err := d.getwd()
	if err != nil {
		return "", "", err
	}
	cred, from, err := tunnel.LoadKey(d.lookupEnv, dir)
	if err != nil {
		return "", "", err
	}
	if cred.Direct() {
		return cred.URL, from, nil
	}
	return cred.APIKey, from, nil
}
