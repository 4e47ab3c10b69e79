// Command sandbox runs a local EA database (PostgreSQL 16, with sample
// data), an empty GA database (PostgreSQL 17) and a gateway emulator, prints
// the keys and PPG_WS_URL to use with ppg, and runs until Ctrl-C.
//
//	go run ./e2e/cmd/sandbox [-addr 127.0.0.1:0] [-env-file FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppg-cli/ppg/e2e/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		os.Exit(1)
	}
}

// run starts the sandbox and stops it on Ctrl-C or SIGTERM, and on every
// error after it started.
func run() (err error) {
	addr := flag.String("addr", "127.0.0.1:0", "address of the gateway emulator")
	envFile := flag.String("env-file", "", "also write PPG_WS_URL and the keys to this file (mode 0600), as shell assignments")
	quiet := flag.Bool("quiet", false, "do not log gateway sessions")
	flag.Parse()
	log.SetFlags(log.Ltime)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintln(os.Stderr, "Starting the sandbox: PostgreSQL 16 (EA), PostgreSQL 17 (GA) and a gateway emulator...")
	opts := sandbox.Options{GatewayAddr: *addr, Logf: log.Printf}
	if *quiet {
		opts.Logf = nil
	}
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := sb.Stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("stop: %w", stopErr))
		}
	}()

	if *envFile != "" {
		content := fmt.Sprintf("PPG_WS_URL=%s\nPPG_SANDBOX_EA_KEY=%s\nPPG_SANDBOX_GA_KEY=%s\n", sb.WSURL, sb.EAKey, sb.GAKey)
		if err := os.WriteFile(*envFile, []byte(content), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", *envFile, err)
		}
	}

	fmt.Printf(`
The sandbox is running. In another terminal, point ppg at its gateway:

  export PPG_WS_URL=%s

EA database (PostgreSQL %d, sample shop data), API key:

  %s

GA database (PostgreSQL %d, empty), API key:

  %s

A key whose environment has no database (to see that error):

  %s

Try:  PDP_API_KEY=<EA key> ppg tunnel
Direct URLs (for checking results): EA %s
                                    GA %s

Press Ctrl-C to stop; the databases are deleted.
`, sb.WSURL, sb.EA.Version, sb.EAKey, sb.GA.Version, sb.GAKey, sb.NoDatabaseKey,
		sb.EA.URL("postgres"), sb.GA.URL("postgres"))

	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nStopping the sandbox...")
	return nil
}
