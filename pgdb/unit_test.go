package pgdb

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// These tests need no server; server_test.go runs the adapter against a
// real one.

func TestParseURLHidesTheURL(t *testing.T) {
	_, err := ParseURL("postgres://u:s3cret-pass@host:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret-pass") {
		t.Fatalf("ParseURL = %v, want an error without the password", err)
	}
	c, err := ParseURL("postgres://u:pw@db.example.com:6543/app?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Params(); p != (Params{Host: "db.example.com", Port: 6543, User: "u", Database: "app", Password: "pw"}) {
		t.Errorf("Params = %+v", p)
	}
}

func TestTunnelConfig(t *testing.T) {
	c, err := TunnelConfig("/tmp/ppg-tunnel-1", 5432)
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Params(); p != (Params{Host: "/tmp/ppg-tunnel-1", Port: 5432, User: "postgres", Database: "postgres"}) {
		t.Errorf("Params = %+v", p)
	}
	if c.c.TLSConfig != nil {
		t.Error("a tunnel's local link negotiates TLS")
	}
}

func TestServerError(t *testing.T) {
	pe := &pgconn.PgError{Severity: "ERROR", Code: "40P01", Message: "deadlock detected"}
	if code, msg, ok := ServerError(fmt.Errorf("restore: %w", pe)); !ok || code != "40P01" || msg != "deadlock detected" {
		t.Errorf("ServerError(wrapped) = %q, %q, %v", code, msg, ok)
	}
	if _, _, ok := ServerError(errors.New("read the server's answer: unexpected EOF")); ok {
		t.Error("a lost connection counts as the server's error")
	}
	if !AuthFailed(&pgconn.PgError{Code: "28P01"}) || !AuthFailed(&pgconn.PgError{Code: "28000"}) || AuthFailed(pe) {
		t.Error("AuthFailed misreads the codes")
	}
}

func TestTableNames(t *testing.T) {
	tb := Table{Schema: "my app", Name: `we"ird`}
	if got := tb.QualifiedName(); got != `my app.we"ird` {
		t.Errorf("QualifiedName = %q", got)
	}
	if got := tb.Quoted(); got != `"my app"."we""ird"` {
		t.Errorf("Quoted = %q", got)
	}
}

func TestObjectKinds(t *testing.T) {
	kinds := ObjectKinds()
	if len(kinds) != len(objectCountQueries) || kinds[0] != "tables" || !slices.Contains(kinds, "extensions") {
		t.Errorf("ObjectKinds = %q", kinds)
	}
}

func TestPostDataKey(t *testing.T) {
	if PostDataKey("INDEX", "a", "b c") == PostDataKey("INDEX", "a b", "c") {
		t.Error("different objects share a key")
	}
}
