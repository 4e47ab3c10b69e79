package pgtools

import (
	"errors"
	"strings"
	"testing"
)

// A source on 18 takes pg_dump 18 when it is there, and asks for 18 when
// only 17 is (words says how to install it).
func TestChooseFor18Source(t *testing.T) {
	found := []Tool{
		tool(t, "pg_dump 17.11 /opt/client17/bin"), tool(t, "pg_restore 17.11 /opt/client17/bin"),
		tool(t, "pg_dump 18.6 /opt/client18/bin"), tool(t, "pg_restore 18.6 /opt/client18/bin"),
	}
	ts, err := Choose(found, 18)
	if err != nil || ts.Dump.Version.Major != 18 || ts.Restore.Path != "/opt/client18/bin/pg_restore" {
		t.Fatalf("Choose for 18 = %v, %v; want the 18 tools", ts, err)
	}
	_, err = Choose(found[:2], 18)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.MinMajor != 18 || nf.Tool != "pg_dump" {
		t.Fatalf("Choose for 18 with only 17 tools: %v", err)
	}
	if !strings.Contains(nf.Error(), "pg_dump 18 or newer not found (needed to dump a PostgreSQL 18 server)") {
		t.Errorf("error: %v", nf)
	}
}

// A dump of 18 goes into 17 (translated), never further down.
func TestCheckTargetFor18(t *testing.T) {
	h := ArchiveHeader{DumpedFrom: Version{Major: 18, Minor: 4}, DumpedBy: Version{Major: 18, Minor: 6}}
	if _, err := CheckTarget(h, Version{Major: 18, Minor: 6}, 17); err != nil {
		t.Errorf("18 into 17: %v", err)
	}
	var de *DowngradeError
	if _, err := CheckTarget(h, Version{Major: 18, Minor: 6}, 16); !errors.As(err, &de) || de.From != 18 || de.To != 16 {
		t.Errorf("18 into 16: %v, want a DowngradeError", err)
	}
}
