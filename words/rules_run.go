package words

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

// The rules of failures during a run: files, disk, the dump, the restore.

func (f Flow) fileExists(err error, out *Failure) bool {
	var fe *migrate.FileExistsError
	if !errors.As(err, &fe) {
		return false
	}
	out.Hint = "choose another file name with -o; ppg never overwrites a dump"
	if fe.Migration {
		out.Hint = "move it elsewhere, then run " + f.again() + "; ppg never overwrites a dump it did not write"
	}
	return true
}

func (f Flow) diskSpace(err error, out *Failure) bool {
	var ds *migrate.DiskSpaceError
	if !errors.As(err, &ds) {
		return false
	}
	out.Headline = fmt.Sprintf("not enough free disk space in %s: %s free, and the dump of the %s takes at least %s", ds.Dir, Bytes(ds.Free), f.Source, Bytes(ds.Need))
	if ds.Known {
		out.Headline = fmt.Sprintf("not enough free disk space in %s: %s free, and the earlier dump of the %s took %s", ds.Dir, Bytes(ds.Free), f.Source, Bytes(ds.Need))
	}
	out.Hint = "free some space, or run " + f.Command + " from a folder on a larger disk"
	return true
}

func (f Flow) dumpChanged(err error, out *Failure) bool {
	var dc *migrate.DumpChangedError
	if !errors.As(err, &dc) {
		return false
	}
	out.Hint = "run " + f.again() + " to dump again"
	return true
}

func (f Flow) reset(err error, out *Failure) bool {
	var re *migrate.ResetError
	if !errors.As(err, &re) {
		return false
	}
	out.Headline = fmt.Sprintf("the schema restore into the non-empty %s was interrupted, and ppg cannot tell its objects from yours", f.Target)
	out.Hint = "remove what the interrupted restore created, or drop and re-create the " + f.Target + ", then run " + f.Command + " --restart"
	return true
}

func (f Flow) readDump(err error, out *Failure) bool {
	var rd *migrate.ReadDumpError
	if !errors.As(err, &rd) {
		return false
	}
	out.Hint = "check the file name"
	return true
}

func (f Flow) plan(err error, out *Failure) bool {
	var pe *migrate.PlanError
	if !errors.As(err, &pe) {
		return false
	}
	var blocks []string
	for _, it := range pe.Plan.Items {
		if it.Verdict == migrate.VerdictBlocks {
			blocks = append(blocks, f.PlanItem(it))
		}
	}
	out.Headline = "the preflight check found what would make the migration fail: " + strings.Join(blocks, "; ")
	out.Hint = "fix what it names (nothing was dumped or written), then run " + f.again()
	return true
}

func (f Flow) sourceChanged(err error, out *Failure) bool {
	var sc *migrate.SourceChangedError
	if !errors.As(err, &sc) {
		return false
	}
	out.Headline, out.Hint = f.sourceChangedWords(sc)
	return true
}

func (f Flow) lost(err error, out *Failure) bool {
	var cl *migrate.ConnectionLostError
	if !errors.As(err, &cl) {
		return false
	}
	link := "the connection to the " + f.Side(cl.Side)
	if cl.Tunnel {
		link = "the tunnel's connection to the " + f.Side(cl.Side) + " (through Prisma's gateway)"
	}
	out.Headline = fmt.Sprintf("%s was lost; %s said: %s", link, cl.Tool, cl.Cause)
	out.Hint = "check the network, then run " + f.again() + ": it resumes where it stopped"
	return true
}

func (f Flow) stalled(err error, out *Failure) bool {
	var st *migrate.StalledError
	if !errors.As(err, &st) {
		return false
	}
	out.Headline = fmt.Sprintf("the connection stalled: %s moved no data for %s, so ppg stopped it", st.Tool, st.After.Round(time.Second))
	out.Hint = "check the network, then run " + f.again() + ": it resumes where it stopped"
	return true
}

func (f Flow) entries(err error, out *Failure) bool {
	var ee *migrate.EntriesError
	if !errors.As(err, &ee) {
		return false
	}
	out.Headline = fmt.Sprintf("the %s refused %s of the restore's %s: %s", f.Target,
		Plural(int64(len(ee.Failures)), "entry", "entries"), Phase(sectionPhase(ee.Section)), strings.Join(first(ee.Failures, 5), "; "))
	if len(ee.Failures) > 5 {
		out.Headline += fmt.Sprintf("; and %d more", len(ee.Failures)-5)
	}
	out.Hint = "everything else of it was restored; fix what the " + f.Target + " refused, then run " + f.again()
	return true
}

func (f Flow) diskFull(err error, out *Failure) bool {
	var df *migrate.DiskFullError
	if !errors.As(err, &df) {
		return false
	}
	out.Headline = fmt.Sprintf("the disk of %s is full (%s); the unfinished dump file was removed", df.Dir, df.Cause)
	out.Hint = "free some disk space there (or use a folder on a larger disk), then run " + f.again()
	return true
}

// sectionPhase is the phase that restores a section.
func sectionPhase(sec string) migrate.Phase {
	switch sec {
	case "pre-data":
		return migrate.PhaseSchema
	case "data":
		return migrate.PhaseData
	}
	return migrate.PhasePostData
}
