package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ppg-cli/ppg/pgtools"
)

// Backup dumps the database of the prompter's Source key to the file out
// (custom format, mode 0600, written to out.partial and renamed when
// complete) with a manifest of row counts beside it (out.manifest.json),
// and returns what was written. It never overwrites an existing file. It
// keeps no state file: a failed backup is simply run again.
func (e *Engine) Backup(ctx context.Context, out string, emit func(Event)) (*DumpInfo, error) {
	e.emit = emit
	e.state = NewState(e.cfg.Now())
	defer e.src.Close()
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err == nil {
		return nil, withHint(fmt.Errorf("%s already exists", abs), "choose another file name with -o; ppg never overwrites a dump")
	}
	if err := e.ensureTools(ctx); err != nil {
		return nil, err
	}
	src, err := e.openSide(ctx, Source)
	if err != nil {
		return nil, err
	}
	e.src = src
	info, err := readServerInfo(ctx, src.db)
	if err != nil {
		return nil, err
	}
	if e.tools, err = pgtools.Choose(e.found, info.Major()); err != nil {
		return nil, err
	}
	if err := checkFreeSpace(filepath.Dir(abs), info.Size); err != nil {
		return nil, err
	}
	e.send(Event{Kind: StepStarted, Step: StepDump})
	var summary string
	for redo := true; redo; {
		summary, redo, err = e.dumpOnce(ctx, src, abs, strings.TrimSuffix(abs, filepath.Ext(abs))+".manifest.json")
		if err != nil {
			return nil, err
		}
	}
	e.send(Event{Kind: StepFinished, Step: StepDump, Text: summary})
	return e.state.Dump, nil
}

// RestoreFile restores the dump file into the database of the prompter's
// Target key, with the migration's safety checks (a non-empty target needs
// confirmation; a target older than the dumped server is refused), and
// verifies the result when the dump's manifest is beside it. It keeps no
// state file.
func (e *Engine) RestoreFile(ctx context.Context, file string, emit func(Event)) error {
	e.emit = emit
	e.state = NewState(e.cfg.Now())
	defer e.dst.Close()
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	size, sum, err := fileSHA256(abs)
	if err != nil {
		return withHint(fmt.Errorf("read %s: %w", abs, err), "check the file name")
	}
	manifest := strings.TrimSuffix(abs, filepath.Ext(abs)) + ".manifest.json"
	msum := ""
	if _, s, err := fileSHA256(manifest); err == nil {
		msum = s
	}
	e.state.Dump = &DumpInfo{Path: abs, Size: size, SHA256: sum, ManifestPath: manifest, ManifestSHA256: msum}
	if err := e.ensureTools(ctx); err != nil {
		return err
	}
	for _, st := range []Step{StepCheckArchive, StepConnectTarget, StepRestore, StepVerify} {
		if st == StepCheckArchive && msum == "" {
			continue // the archive check compares with the manifest
		}
		if st == StepVerify && msum == "" {
			e.send(Event{Kind: Warning, Step: StepVerify, Text: "no manifest beside the dump (" + filepath.Base(manifest) + "): the restore is not verified"})
			continue
		}
		if st == StepRestore && msum == "" {
			e.manifest = &Manifest{Version: 1}
		}
		e.send(Event{Kind: StepStarted, Step: st})
		summary, err := e.runStep(ctx, st)
		if err != nil {
			se := &StepError{Step: st, Err: err, Hint: "fix the cause, then run the command again"}
			var h interface{ Hint() string }
			if errors.As(err, &h) {
				se.Hint = h.Hint()
			}
			e.send(Event{Kind: StepFailed, Step: st, Err: err, Hint: se.Hint})
			return se
		}
		e.send(Event{Kind: StepFinished, Step: st, Text: summary})
	}
	return nil
}
