package migrate

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// A direct source gets a relay on a socket in a private folder; pg_dump
// keeps the source's user, database and password (they pass through) and
// its local hop is plain.
func TestDumpRelayConn(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the relay listens on loopback TCP there")
	}
	e := &Engine{}
	src := &Endpoint{
		Cred: tunnel.Credential{URL: "postgres://u:secret@127.0.0.1:1/app?sslmode=require"},
		Conn: pgtools.Conn{Host: "127.0.0.1", Port: "1", User: "u", Database: "app", Password: "secret", SSLMode: "require"},
	}
	rl, err := e.startDumpRelay(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := rl.dir
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("socket folder mode %v, want 0700", fi.Mode().Perm())
	}
	c := rl.conn(src.Conn)
	want := pgtools.Conn{Host: dir, Port: "5432", User: "u", Database: "app", Password: "secret", SSLMode: "disable"}
	if c != want {
		t.Errorf("conn = %+v, want %+v", c, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ".s.PGSQL.5432")); err != nil {
		t.Errorf("no socket: %v", err)
	}
	rl.close()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket folder is left after close: %v", err)
	}
}

// Switched off, or with a source that is neither a URL nor a tunnel,
// pg_dump connects as before.
func TestDumpRelayOff(t *testing.T) {
	direct := &Endpoint{Cred: tunnel.Credential{URL: "postgres://u@127.0.0.1:1/app"}, Conn: pgtools.Conn{Host: "127.0.0.1", Port: "1"}}
	for name, tc := range map[string]struct {
		e   *Engine
		src *Endpoint
	}{
		"off":     {&Engine{cfg: Config{NoRelay: true}}, direct},
		"neither": {&Engine{}, &Endpoint{Conn: pgtools.Conn{Host: "h", Port: "1"}}},
	} {
		rl, err := tc.e.startDumpRelay(tc.src)
		if err != nil || rl != nil {
			t.Errorf("%s: relay %v, err %v; want none", name, rl, err)
		}
		if c := rl.conn(tc.src.Conn); c != tc.src.Conn {
			t.Errorf("%s: conn changed to %+v", name, c)
		}
		err = errors.New("pg_dump failed")
		if got := rl.failed(err, tc.src); got != err {
			t.Errorf("%s: failed = %v", name, got)
		}
		rl.close()
	}
}

// When the relay cannot reach the server, pg_dump's failure is a lost
// connection to the source, retried like any other; a stopped run stays
// stopped.
func TestDumpRelayLinkLost(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the relay listens on loopback TCP there")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	src := &Endpoint{Cred: tunnel.Credential{URL: "postgres://u:secret@" + addr + "/app?sslmode=disable"}}
	rl, err := (&Engine{}).startDumpRelay(src)
	if err != nil {
		t.Fatal(err)
	}
	defer rl.close()
	c, err := net.Dial("unix", filepath.Join(rl.dir, ".s.PGSQL.5432"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u", "database": "app"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	// The relay refuses the client once the dial failed; wait for that.
	for {
		if _, err := fe.Receive(); err != nil {
			break
		}
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(30 * time.Second); rl.r.Err() == nil && time.Now().Before(deadline); {
		<-tick.C // the session records its error just after closing the client
	}

	exit := &pgtools.ExitError{Tool: "pg_dump", Code: 1, StderrTail: []string{"pg_dump: error: connection to server on socket \"/x/.s.PGSQL.5432\" failed: server closed the connection unexpectedly"}}
	err = rl.failed(exit, src)
	lost := dumpConnectionLost(err)
	if lost == nil || lost.Side != Source || lost.Tool != "pg_dump" {
		t.Fatalf("failed = %v (%#v), want pg_dump's lost connection to the source", err, lost)
	}
	if !transient(err) {
		t.Error("a broken relay link is not retried")
	}
	if ClassOf(err) != ClassConnect {
		t.Errorf("class %v, want connect", ClassOf(err))
	}
	// pg_dump said nothing of the link: the relay's error is the cause.
	err = rl.failed(&pgtools.ExitError{Tool: "pg_dump", Code: 1}, src)
	if lost := dumpConnectionLost(err); lost == nil || lost.Cause == "" {
		t.Errorf("failed = %v, want a lost connection with a cause", err)
	}
	stopped := &pgtools.ExitError{Tool: "pg_dump", Canceled: true}
	if got := rl.failed(stopped, src); got != error(stopped) {
		t.Errorf("a stopped pg_dump became %v", got)
	}
}
