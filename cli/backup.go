package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

func (a *app) backupCmd() *cobra.Command {
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
			a.flow = words.Backup
			if out == "" {
				out = "ppg-backup-" + time.Now().Format("20060102-150405") + ".dump"
			}
			raw, from, err := keyFrom(keyFile)
			if err != nil {
				return err
			}
			eng := migrate.New(a.engineConfig(".", pgBin, 0), credentialPrompter{raw: raw, from: from})
			rep := newReporter(cmd.OutOrStdout(), asJSON, a.flow)
			d, err := eng.Backup(cmd.Context(), out, rep.event)
			if err != nil {
				return err
			}
			if !asJSON {
				_, _ = fmt.Fprintf(cmd.OutOrStdout(), "\nBackup written: %s (%d bytes, sha256 %s)\nRow counts: %s\n", d.Path, d.Size, d.SHA256, d.ManifestPath)
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

func (a *app) restoreCmd() *cobra.Command {
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
				return words.UsageError{Err: errors.New("restore takes one argument: the dump file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a.flow = words.Restore
			raw, from, err := keyFrom(keyFile)
			if err != nil {
				return err
			}
			cfg := a.engineConfig(".", pgBin, jobs)
			cfg.AllowNonEmptyTarget = allowNonEmpty
			eng := migrate.New(cfg, credentialPrompter{raw: raw, from: from, allowNonEmpty: allowNonEmpty})
			rep := newReporter(cmd.OutOrStdout(), asJSON, a.flow)
			if err := eng.RestoreFile(cmd.Context(), args[0], rep.event); err != nil {
				return err
			}
			if !asJSON {
				_, _ = fmt.Fprintln(cmd.OutOrStdout(), "\nRestore complete.")
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
