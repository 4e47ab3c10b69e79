package migrate

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/live"
	"github.com/ppg-cli/ppg/pgtools"
)

func TestConnURL(t *testing.T) {
	c := pgtools.Conn{Host: "db.example.com", Port: "5432", User: "app user", Password: "p@ss:/word?&", Database: "shop", SSLMode: "require"}
	u, err := url.Parse(connURL(c))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if u.Hostname() != "db.example.com" || u.Port() != "5432" || u.User.Username() != "app user" || pw != c.Password ||
		u.Path != "/shop" || u.Query().Get("sslmode") != "require" {
		t.Errorf("connURL(%+v) = %s", c, u)
	}
	tun := pgtools.Conn{Host: "127.0.0.1", Port: "40001", User: "u", Database: "d", SSLMode: "require", Tunnel: true}
	u, err = url.Parse(connURL(tun))
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("sslmode") != "disable" {
		t.Errorf("through the tunnel (which carries TLS itself) sslmode = %q, want disable", u.Query().Get("sslmode"))
	}
	if _, ok := u.User.Password(); ok {
		t.Errorf("a connection without a password got one: %s", u)
	}
}

func TestFullIdentityConsent(t *testing.T) {
	none := []live.Table{{Schema: "public", Name: "logs"}, {Schema: "audit", Name: "trail"}, {Schema: "public", Name: "tmp"}}
	var nilOpts *LiveOptions
	if got := nilOpts.fullIdentity(none); len(got) != 0 {
		t.Errorf("no options consent to %v", got)
	}
	got := (&LiveOptions{FullIdentity: []string{"logs", "audit.trail", "public.other"}}).fullIdentity(none)
	if len(got) != 2 || got[0].Name != "logs" || got[1].Name != "trail" {
		t.Errorf("consent to logs and audit.trail gives %v", got)
	}
	if got := (&LiveOptions{AllFullIdentity: true}).fullIdentity(none); len(got) != 3 {
		t.Errorf("consent for all gives %v", got)
	}
	if got := without(none, none[:1]); len(got) != 2 || got[0].Name != "trail" {
		t.Errorf("without: %v", got)
	}
}

// TestLiveStateNext: the stream step comes after verify in a live
// migration alone, and its name is a known step in the state file.
func TestLiveStateNext(t *testing.T) {
	s := NewState(time.Now())
	for _, st := range steps {
		s.Step(st).Status = Done
	}
	if got := s.Next(); got != StepDone {
		t.Errorf("a frozen migration done: next %s", got)
	}
	s.Live = &LiveState{Slot: "ppg_x", Publication: "ppg_x"}
	if got := s.Next(); got != StepStream {
		t.Errorf("a live migration verified: next %s, want %s", got, StepStream)
	}
	s.Step(StepStream).Status = Done
	if got := s.Next(); got != StepDone {
		t.Errorf("a live migration cut over: next %s", got)
	}
	if !knownStep(StepStream) {
		t.Error("the stream step is not a known step")
	}
}

// TestCutoverRequest: a request written before the run started is an
// earlier run's and is dropped; one written during the run is taken; a
// stream that ends first is the answer.
func TestCutoverRequest(t *testing.T) {
	dir := t.TempDir()
	e := New(Config{Dir: dir}, nil)
	e.runStart = time.Now()
	req := filepath.Join(dir, CutoverRequestFile)
	if err := os.WriteFile(req, []byte("cutover\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := e.runStart.Add(-time.Hour)
	if err := os.Chtimes(req, old, old); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	type answer struct {
		at  time.Time
		err error
	}
	got := make(chan answer, 1)
	go func() {
		at, err := e.waitCutoverRequest(ctx, done)
		got <- answer{at, err}
	}()
	// The stale request is removed, not taken: the answer comes with the
	// fresh request's time.
	waitGone(t, req)
	fresh := e.runStart.Truncate(time.Millisecond)
	if err := os.WriteFile(req, []byte("cutover\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(req, fresh, fresh); err != nil {
		t.Fatal(err)
	}
	if a := <-got; a.err != nil || !a.at.Equal(fresh) {
		t.Fatalf("asked at %v (%v), want the fresh request's %v", a.at, a.err, fresh)
	}

	go func() {
		at, err := e.waitCutoverRequest(ctx, done)
		got <- answer{at, err}
	}()
	done <- &live.DDLError{Table: live.Table{Schema: "public", Name: "t"}}
	var ddl *live.DDLError
	if a := <-got; !errors.As(a.err, &ddl) {
		t.Fatalf("the stream's end: %v, want its *DDLError", a.err)
	}
}

// waitGone waits until the file at path is removed.
func waitGone(t *testing.T, path string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s was not removed", path)
		case <-tick.C:
		}
	}
}

// TestStartLiveTakesOverSlot: a live migration started over takes over
// the slot the earlier one left (the dump drops it first); a frozen one
// started over says the slot is there.
func TestStartLiveTakesOverSlot(t *testing.T) {
	old := NewState(time.Now())
	old.Live = &LiveState{Slot: "ppg_old", Publication: "ppg_old", SetUp: true, IdentityFull: []LiveTable{{Schema: "public", Name: "logs"}}}

	e := New(Config{Dir: t.TempDir(), Live: &LiveOptions{}}, nil)
	e.state = NewState(time.Now())
	e.startLive(old)
	if l := e.state.Live; l == nil || l.Slot != "ppg_old" || !l.SetUp || len(l.IdentityFull) != 1 {
		t.Errorf("live state started over: %+v, want the old slot taken over", l)
	}

	e = New(Config{Dir: t.TempDir(), Live: &LiveOptions{}}, nil)
	e.state = NewState(time.Now())
	e.startLive(nil)
	if l := e.state.Live; l == nil || l.Slot != live.NamesFor(e.state.ID).Slot || l.SetUp {
		t.Errorf("a new live migration: %+v", l)
	}

	var events []Event
	e = New(Config{Dir: t.TempDir()}, nil)
	e.emit = func(ev Event) { events = append(events, ev) }
	e.state = NewState(time.Now())
	e.startLive(old)
	if e.state.Live != nil || len(events) != 1 || events[0].Notice.Code != NoticeLiveSlotLeft || events[0].Notice.Path != "ppg_old" {
		t.Errorf("a frozen migration started over: live %+v, events %+v", e.state.Live, events)
	}
}

// TestLiveOnFrozenFolder: --live in a folder whose migration is a frozen
// copy is refused before anything runs.
func TestLiveOnFrozenFolder(t *testing.T) {
	dir := t.TempDir()
	s := NewState(time.Now())
	s.Flow = "ppg"
	if err := s.Save(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	e := New(Config{Dir: dir, Live: &LiveOptions{}}, nil)
	err := e.Run(context.Background(), nil)
	var frozen *FrozenNotLiveError
	if !errors.As(err, &frozen) {
		t.Fatalf("Run: %v, want a *FrozenNotLiveError", err)
	}
}

// TestLiveSnapshotRefused: when pg_dump could not import the slot's
// snapshot, a live dump stops instead of dumping again without it (the
// copy would not meet the stream exactly).
func TestLiveSnapshotRefused(t *testing.T) {
	e := New(Config{Dir: t.TempDir()}, nil)
	e.state = NewState(time.Now())
	e.state.Live = &LiveState{Slot: "ppg_x", Publication: "ppg_x"}
	e.noSnapshot = true
	if _, _, err := e.takeSnapshot(context.Background(), &Endpoint{}); !errors.Is(err, ErrLiveSnapshotRefused) {
		t.Fatalf("takeSnapshot: %v, want ErrLiveSnapshotRefused", err)
	}
}
