package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/words"
)

// backupOptions are ppg backup's flags and dependencies.
type backupOptions struct {
	deps
	out, keyFile, pgBin string
	json                bool
}

// newBackupCmd is ppg backup; runF, if set, runs instead of the backup.
func newBackupCmd(d deps, runF func(context.Context, *backupOptions) error) *cobra.Command {
	opts := &backupOptions{deps: d}
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
			if opts.out == "" {
				opts.out = "ppg-backup-" + opts.now().Format("20060102-150405") + ".dump"
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBackup(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.out, "output", "o", "", "dump file to write (default: ppg-backup-DATE-TIME.dump)")
	cmd.Flags().StringVar(&opts.keyFile, "key-file", "", "read the key or URL from this file")
	cmd.Flags().StringVar(&opts.pgBin, "pg-bin", "", "folder holding pg_dump and pg_restore")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print events as JSON, one object a line")
	return cmd
}

// runBackup dumps the database of the key into o.out.
func runBackup(ctx context.Context, o *backupOptions) error {
	raw, from, err := o.keyFrom(o.keyFile)
	if err != nil {
		return err
	}
	eng := o.newEngine(o.engineConfig(".", o.pgBin, 0), credentialPrompter{raw: raw, from: from})
	rep := newReporter(o.io.out, o.json, words.Backup)
	d, err := eng.Backup(ctx, o.out, rep.event)
	if err != nil {
		return err
	}
	if !o.json {
		_, _ = fmt.Fprintf(o.io.out, "\nBackup written: %s (%d bytes, sha256 %s)\nRow counts: %s\n", d.Path, d.Size, d.SHA256, d.ManifestPath)
	}
	return nil
}

// restoreOptions are ppg restore's argument, flags and dependencies.
type restoreOptions struct {
	deps
	file, keyFile, pgBin string
	jobs                 int
	json, allowNonEmpty  bool
}

// newRestoreCmd is ppg restore; runF, if set, runs instead of the restore.
func newRestoreCmd(d deps, runF func(context.Context, *restoreOptions) error) *cobra.Command {
	opts := &restoreOptions{deps: d}
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
			opts.file = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRestore(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.keyFile, "key-file", "", "read the target's key or URL from this file")
	cmd.Flags().StringVar(&opts.pgBin, "pg-bin", "", "folder holding pg_dump and pg_restore")
	cmd.Flags().IntVar(&opts.jobs, "jobs", 0, "parallel pg_restore jobs (default 4: the restore waits on the network; Prisma plans allow about 10 connections)")
	cmd.Flags().BoolVar(&opts.allowNonEmpty, "allow-non-empty-target", false, "restore into a database that already holds objects")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print events as JSON, one object a line")
	return cmd
}

// runRestore restores o.file into the database of the key.
func runRestore(ctx context.Context, o *restoreOptions) error {
	raw, from, err := o.keyFrom(o.keyFile)
	if err != nil {
		return err
	}
	cfg := o.engineConfig(".", o.pgBin, o.jobs)
	cfg.AllowNonEmptyTarget = o.allowNonEmpty
	eng := o.newEngine(cfg, credentialPrompter{raw: raw, from: from, allowNonEmpty: o.allowNonEmpty})
	rep := newReporter(o.io.out, o.json, words.Restore)
	if err := eng.RestoreFile(ctx, o.file, rep.event); err != nil {
		return err
	}
	if !o.json {
		_, _ = fmt.Fprintln(o.io.out, "\nRestore complete.")
	}
	return nil
}
