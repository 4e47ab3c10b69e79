package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// credentialPrompter answers the engine with one credential, once: the
// one-shot commands have nobody to ask again.
type credentialPrompter struct {
	raw           string
	source        string
	allowNonEmpty bool
}

func (p credentialPrompter) Key(_ context.Context, _ migrate.Side, problem error) (string, error) {
	if problem != nil {
		return "", fmt.Errorf("%s: %w", p.source, problem)
	}
	return p.raw, nil
}

func (p credentialPrompter) Confirm(_ context.Context, q migrate.Question) (bool, error) {
	return q.Kind == migrate.ConfirmSource || (q.Kind == migrate.ConfirmNonEmptyTarget && p.allowNonEmpty), nil
}

// keyFrom reads the credential of the one-shot commands: a key file if
// given, else PDP_API_KEY then DATABASE_URL from the environment or ./.env.
func keyFrom(file string) (string, string, error) {
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
	cred, source, err := tunnel.LoadKey(os.LookupEnv, dir)
	if err != nil {
		return "", "", err
	}
	if cred.Direct() {
		return cred.URL, source, nil
	}
	return cred.APIKey, source, nil
}

func newEngine(pgBin string, jobs int, p migrate.Prompter, allowNonEmpty bool) *migrate.Engine {
	if pgBin == "" {
		pgBin = os.Getenv(envPGBin)
	}
	return migrate.New(migrate.Config{
		Finder:              pgtools.Finder{Dir: pgBin},
		Tunnel:              tunnel.Config{UserAgent: "ppg/" + userAgentVersion()},
		Jobs:                jobs,
		AllowNonEmptyTarget: allowNonEmpty,
	}, p)
}

func newBackupCmd() *cobra.Command {
	var out, keyFile, pgBin string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Dump a database to a file through the tunnel, with progress and a checksum",
		Long: `backup dumps the database of PDP_API_KEY or DATABASE_URL (environment, then
./.env; or --key-file) into a pg_dump custom-format file, through a private
tunnel when the key is an API key. It counts every table's rows in the dump's
own snapshot and writes them beside the dump (FILE.manifest.json), so that
'ppg restore' can verify a restore. The file is created with mode 0600 and
never overwrites an existing one.`,
		Example: `  ppg backup
  ppg backup -o prod-2026-11-21.dump
  DATABASE_URL='postgres://user:pass@host:5432/postgres?sslmode=require' ppg backup -o db.dump`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				out = "ppg-backup-" + time.Now().Format("20060102-150405") + ".dump"
			}
			raw, source, err := keyFrom(keyFile)
			if err != nil {
				return err
			}
			eng := newEngine(pgBin, 0, credentialPrompter{raw: raw, source: source}, false)
			rep := newReporter(cmd.OutOrStdout(), asJSON)
			d, err := eng.Backup(cmd.Context(), out, rep.event)
			if err != nil {
				return classify(err)
			}
			if !asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "\nBackup written: %s (%d bytes, sha256 %s)\nRow counts: %s\n", d.Path, d.Size, d.SHA256, d.ManifestPath)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "dump file to write (default: ppg-backup-DATE-TIME.dump)")
	cmd.Flags().StringVar(&keyFile, "key-file", "", "read the key or URL from this file")
	cmd.Flags().StringVar(&pgBin, "pg-bin", "", "folder holding pg_dump and pg_restore")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print events as JSON, one object a line")
	return cmd
}

func newRestoreCmd() *cobra.Command {
	var keyFile, pgBin string
	var jobs int
	var asJSON, allowNonEmpty bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a dump file into a database, with the migration's safety checks",
		Long: `restore restores a pg_dump custom-format file into the database of
PDP_API_KEY or DATABASE_URL (environment, then ./.env; or --key-file), the
way migrate-from-ea does: by section, without ownership and privileges,
refusing a non-empty database unless --allow-non-empty-target, and
verifying row counts, sequences and objects when the dump's manifest
(FILE.manifest.json, written by 'ppg backup' and migrate-from-ea) is beside it.`,
		Example: `  PDP_API_KEY=... ppg restore prod-2026-11-21.dump`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("restore takes one argument: the dump file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, source, err := keyFrom(keyFile)
			if err != nil {
				return err
			}
			eng := newEngine(pgBin, jobs, credentialPrompter{raw: raw, source: source, allowNonEmpty: allowNonEmpty}, allowNonEmpty)
			rep := newReporter(cmd.OutOrStdout(), asJSON)
			if err := eng.RestoreFile(cmd.Context(), args[0], rep.event); err != nil {
				return classify(err)
			}
			if !asJSON {
				fmt.Fprintln(cmd.OutOrStdout(), "\nRestore complete.")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", "", "read the target's key or URL from this file")
	cmd.Flags().StringVar(&pgBin, "pg-bin", "", "folder holding pg_dump and pg_restore")
	cmd.Flags().IntVar(&jobs, "jobs", 0, "parallel pg_restore jobs (default 4: the restore waits on the network; Prisma plans allow about 10 connections)")
	cmd.Flags().BoolVar(&allowNonEmpty, "allow-non-empty-target", false, "restore into a database that already holds objects")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print events as JSON, one object a line")
	return cmd
}
