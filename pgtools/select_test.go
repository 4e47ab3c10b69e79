package pgtools

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// tool makes a Tool for selection tests: "pg_dump 17.2 /usr/bin".
func tool(t *testing.T, spec string) Tool {
	t.Helper()
	f := strings.Fields(spec)
	v, err := ParseVersion(f[1])
	if err != nil {
		t.Fatal(err)
	}
	tl := Tool{Name: f[0], Version: v, Path: f[2] + "/" + f[0], RealPath: f[2] + "/" + f[0]}
	for _, opt := range f[3:] {
		switch opt {
		case "wrapper":
			tl.RealPath = "/usr/share/postgresql-common/pg_wrapper"
		case "explicit":
			tl.Explicit = true
		case "broken":
			tl.Version, tl.Err = Version{}, errors.New("exit status 127")
		}
	}
	return tl
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name        string
		found       []string
		source      int
		dump, rest  string // "version dir" of the chosen tools
		missing     string // else: the tool NotFoundError names
		missingNeed int
	}{
		{name: "nothing found", source: 16, missing: "pg_dump", missingNeed: 16},
		{name: "only old tools", source: 16, found: []string{
			"pg_dump 15.18 /usr/lib/postgresql/15/bin", "pg_restore 15.18 /usr/lib/postgresql/15/bin",
		}, missing: "pg_dump", missingNeed: 16},
		{name: "mixed dirs, newest pair", source: 16, found: []string{
			"pg_dump 15.18 /usr/lib/postgresql/15/bin", "pg_restore 15.18 /usr/lib/postgresql/15/bin",
			"pg_dump 17.11 /usr/lib/postgresql/17/bin", "pg_restore 17.11 /usr/lib/postgresql/17/bin",
			"pg_dump 16.4 /usr/pgsql-16/bin", "pg_restore 16.4 /usr/pgsql-16/bin",
		}, dump: "17.11 /usr/lib/postgresql/17/bin", rest: "17.11 /usr/lib/postgresql/17/bin"},
		{name: "pg_restore older than pg_dump", source: 16, found: []string{
			"pg_dump 17.2 /a", "pg_restore 16.4 /b",
		}, missing: "pg_restore", missingNeed: 17},
		{name: "older pair that fits", source: 16, found: []string{
			"pg_dump 17.2 /a", "pg_restore 16.4 /b", "pg_dump 16.4 /b",
		}, dump: "16.4 /b", rest: "16.4 /b"},
		{name: "pg_restore from pg_dump's directory", source: 16, found: []string{
			"pg_restore 17.4 /y", "pg_dump 17.2 /x", "pg_restore 17.2 /x",
		}, dump: "17.2 /x", rest: "17.2 /x"},
		{name: "newest pg_restore elsewhere", source: 16, found: []string{
			"pg_dump 17.2 /x", "pg_restore 16.4 /x", "pg_restore 17.0 /y", "pg_restore 18.1 /z",
		}, dump: "17.2 /x", rest: "18.1 /z"},
		{name: "real binary over pg_wrapper", source: 15, found: []string{
			"pg_dump 15.18 /usr/bin wrapper", "pg_restore 15.18 /usr/bin wrapper",
			"pg_dump 15.18 /usr/lib/postgresql/15/bin", "pg_restore 15.18 /usr/lib/postgresql/15/bin",
		}, dump: "15.18 /usr/lib/postgresql/15/bin", rest: "15.18 /usr/lib/postgresql/15/bin"},
		{name: "broken tools skipped", source: 16, found: []string{
			"pg_dump 0 /broken broken", "pg_dump 16.1 /ok", "pg_restore 16.1 /ok",
		}, dump: "16.1 /ok", rest: "16.1 /ok"},
		{name: "explicit directory wins", source: 16, found: []string{
			"pg_dump 16.2 /mine explicit", "pg_restore 16.2 /mine explicit", "pg_dump 17.1 /usr/bin", "pg_restore 17.1 /usr/bin",
		}, dump: "16.2 /mine", rest: "16.2 /mine"},
		{name: "explicit directory too old", source: 16, found: []string{
			"pg_dump 15.2 /mine explicit", "pg_restore 15.2 /mine explicit", "pg_dump 17.1 /usr/bin", "pg_restore 17.1 /usr/bin",
		}, missing: "pg_dump", missingNeed: 16},
		{name: "explicit pg_dump, pg_restore elsewhere", source: 16, found: []string{
			"pg_dump 16.2 /mine explicit", "pg_restore 17.1 /usr/bin",
		}, dump: "16.2 /mine", rest: "17.1 /usr/bin"},
		{name: "pre-release is newer than older major", source: 16, found: []string{
			"pg_dump 16.4 /a", "pg_restore 16.4 /a", "pg_dump 17beta1 /b", "pg_restore 17beta1 /b",
		}, dump: "17beta1 /b", rest: "17beta1 /b"},
		{name: "release beats its pre-release", source: 17, found: []string{
			"pg_dump 17beta1 /b", "pg_restore 17beta1 /b", "pg_dump 17.0 /c", "pg_restore 17.0 /c",
		}, dump: "17.0 /c", rest: "17.0 /c"},
		{name: "unknown source version", source: 0, found: []string{"pg_dump 9.6.24 /old", "pg_restore 9.6.24 /old"},
			dump: "9.6.24 /old", rest: "9.6.24 /old"},
		{name: "only pg_dump", source: 16, found: []string{"pg_dump 17.1 /a"}, missing: "pg_restore", missingNeed: 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var found []Tool
			for _, s := range tt.found {
				found = append(found, tool(t, s))
			}
			set, err := Choose(found, tt.source)
			if tt.missing != "" {
				var nf *NotFoundError
				if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v, want *NotFoundError", err)
				}
				if nf.Tool != tt.missing || nf.MinMajor != tt.missingNeed || len(nf.Found) != len(found) {
					t.Errorf("NotFoundError %+v", nf)
				}
				msg := err.Error()
				for _, want := range append([]string{tt.missing + " " + strconv.Itoa(tt.missingNeed) + " or newer not found"}, tt.found...) {
					if f := strings.Fields(want); len(f) >= 3 && !strings.Contains(want, "not found") {
						want = f[0] + " " + f[1] // each tool found is listed with its version
					}
					if !strings.Contains(msg, want) {
						t.Errorf("message %q lacks %q", msg, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := set.Dump.Version.String() + " " + dirOf(set.Dump.Path); got != tt.dump {
				t.Errorf("pg_dump %q, want %q", got, tt.dump)
			}
			if got := set.Restore.Version.String() + " " + dirOf(set.Restore.Path); got != tt.rest {
				t.Errorf("pg_restore %q, want %q", got, tt.rest)
			}
			if set.Dump.Name != "pg_dump" || set.Restore.Name != "pg_restore" {
				t.Errorf("set %+v", set)
			}
		})
	}
}

func dirOf(p string) string { return p[:strings.LastIndex(p, "/")] }

func TestNotFoundSaysWhatIsMissing(t *testing.T) {
	e := &NotFoundError{Tool: "pg_dump", MinMajor: 16, Reason: "to dump a PostgreSQL 16 server", GOOS: "linux",
		Found: []Tool{{Name: "pg_dump", Path: "/x/pg_dump", Version: Version{Major: 15}, Explicit: true}}}
	msg := e.Error()
	for _, want := range []string{"pg_dump 16 or newer not found", "needed to dump a PostgreSQL 16 server", "found: ", "[--pg-bin]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	// How to install them is package words' to say.
	for _, advice := range []string{"install", "--pg-bin DIR", "PPG_PG_BIN"} {
		if strings.Contains(msg, advice) {
			t.Errorf("%q gives advice (%q)", msg, advice)
		}
	}
	if (&NotFoundError{Tool: "pg_restore", MinMajor: 17}).Error() != "pg_restore 17 or newer not found; found: none" {
		t.Errorf("no tools: %q", (&NotFoundError{Tool: "pg_restore", MinMajor: 17}).Error())
	}
}

func TestArchiveChecks(t *testing.T) {
	h := ArchiveHeader{DumpedBy: Version{Major: 17, Minor: 11}, DumpedFrom: Version{Major: 16, Minor: 14}}
	old := tool(t, "pg_restore 15.18 /usr/lib/postgresql/15/bin")
	cur := tool(t, "pg_restore 17.2 /usr/lib/postgresql/17/bin")
	if err := CheckArchive(cur, h); err != nil {
		t.Errorf("CheckArchive(17): %v", err)
	}
	err := CheckArchive(old, h)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.MinMajor != 17 || !strings.Contains(err.Error(), "to read an archive written by pg_dump 17.11") {
		t.Errorf("CheckArchive(15) = %v", err)
	}
	if r, err := ChooseRestore([]Tool{old, cur, tool(t, "pg_dump 18.0 /x")}, h); err != nil || r.Path != cur.Path {
		t.Errorf("ChooseRestore = %v, %v", r, err)
	}
	if _, err := ChooseRestore([]Tool{old}, h); !errors.Is(err, ErrNotFound) {
		t.Errorf("ChooseRestore(15 only) = %v", err)
	}
}

func TestCheckTarget(t *testing.T) {
	h := ArchiveHeader{DumpedBy: Version{Major: 17}, DumpedFrom: Version{Major: 16}}
	if notes, err := CheckTarget(h, Version{Major: 17}, 17); err != nil || len(notes) != 0 {
		t.Errorf("16 → 17: %v, %v", notes, err)
	}
	if notes, err := CheckTarget(h, Version{Major: 17}, 16); err != nil || len(notes) != 1 || notes[0] != NoteTransactionTimeout {
		t.Errorf("16 → 16 with pg_restore 17: %v, %v", notes, err)
	}
	if notes, err := CheckTarget(h, Version{Major: 16}, 16); err != nil || len(notes) != 0 {
		t.Errorf("16 → 16 with pg_restore 16: %v, %v", notes, err)
	}
	_, err := CheckTarget(ArchiveHeader{DumpedFrom: Version{Major: 17}}, Version{Major: 17}, 16)
	var de *DowngradeError
	if !errors.As(err, &de) || de.From != 17 || de.To != 16 {
		t.Errorf("17 → 16: %v", err)
	}
}
