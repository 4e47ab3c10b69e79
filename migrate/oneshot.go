package migrate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
		return nil, &FileExistsError{Path: abs}
	}
	src, _, err := e.openSourceAndTools(ctx)
	if err != nil {
		return nil, err
	}
	tables, err := src.DB.Tables(ctx)
	if err != nil {
		return nil, err
	}
	var data int64
	for _, t := range tables {
		data += t.Bytes
	}
	est, warn, err := checkFreeSpace(filepath.Dir(abs), data, 0)
	if err != nil {
		return nil, err
	}
	if warn {
		e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeLowDiskSpace, Path: est.Dir, Count: est.Free, Of: est.Estimate}})
	}
	e.send(Event{Kind: StepStarted, Step: StepDump})
	var d *DumpInfo
	for redo := true; redo; {
		d, redo, err = e.dumpOnce(ctx, src, abs, strings.TrimSuffix(abs, filepath.Ext(abs))+".manifest.json")
		if err != nil {
			se := newStepError(StepDump, err)
			if ctx.Err() == nil {
				e.send(Event{Kind: StepFailed, Step: StepDump, Failure: se})
			}
			return nil, se
		}
	}
	e.send(Event{Kind: StepFinished, Step: StepDump, Summary: &Summary{Dump: d}})
	return d, nil
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
		return &ReadDumpError{Path: abs, Err: err}
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
			e.send(Event{Kind: Warning, Step: StepVerify, Notice: &Notice{Code: NoticeNoManifest, Path: manifest}})
			continue
		}
		if st == StepRestore && msum == "" {
			e.manifest = &Manifest{Version: 1}
		}
		e.send(Event{Kind: StepStarted, Step: st})
		summary, err := e.runStep(ctx, st)
		if err != nil {
			if ctx.Err() != nil {
				return context.Canceled
			}
			se := newStepError(st, err)
			e.send(Event{Kind: StepFailed, Step: st, Failure: se})
			return se
		}
		e.send(Event{Kind: StepFinished, Step: st, Summary: summary})
	}
	return nil
}
