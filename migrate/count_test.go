package migrate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// lockSnapshot is a snapshot whose pg_dump is seen to hold the tables
// held(poll) at each poll of its locks, and that records what it counts,
// in order. dumped is closed at poll endAt (0: never).
type lockSnapshot struct {
	mu     sync.Mutex
	held   func(poll int) map[string]bool
	err    error // DumpLocks's error
	polls  int
	endAt  int
	dumped chan struct{}
	calls  []string
	fakeSnapshot
}

func (s *lockSnapshot) DumpLocks(_ context.Context, app string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	if app != "ppg-dump-m1" {
		return nil, errors.New("wrong application name " + app)
	}
	if s.polls == s.endAt {
		close(s.dumped)
	}
	if s.err != nil {
		return nil, s.err
	}
	return s.held(s.polls), nil
}

func (s *lockSnapshot) CountTables(_ context.Context, tables []Table, content bool) (TableCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tc := TableCounts{Rows: map[string]int64{}, Content: map[string]string{}}
	var names []string
	for _, t := range tables {
		names = append(names, t.Name)
		tc.Rows[t.QualifiedName()] = int64(len(t.Name))
		if content {
			tc.Content[t.QualifiedName()] = "h" + t.Name
		}
	}
	s.calls = append(s.calls, "count "+strings.Join(names, ","))
	return tc, nil
}

func (s *lockSnapshot) Manifest(_ context.Context, tables []Table, content bool) (*Manifest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	m := &Manifest{Version: 1, Sequences: map[string]int64{"public.s": 7}}
	if content {
		m.Content = map[string]string{}
	}
	for _, t := range tables {
		names = append(names, t.Name)
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: int64(len(t.Name))})
		if content {
			m.Content[t.QualifiedName()] = "h" + t.Name
		}
	}
	s.calls = append(s.calls, "manifest "+strings.Join(names, ","))
	return m, nil
}

func countTables(names ...string) []Table {
	var ts []Table
	for _, n := range names {
		ts = append(ts, Table{Schema: "public", Name: n})
	}
	return ts
}

func heldSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m["public."+n] = true
	}
	return m
}

// A table is counted only once pg_dump holds it; what pg_dump never holds
// is counted with the rest of the manifest once pg_dump has ended; the
// manifest keeps the tables' order and every table's hash.
func TestCountBehindDump(t *testing.T) {
	cases := []struct {
		name  string
		held  func(poll int) map[string]bool
		err   error
		endAt int
		want  []string
	}{
		{
			name: "pg_dump locks its tables over three polls and never b",
			held: func(poll int) map[string]bool {
				switch {
				case poll < 3:
					return nil
				case poll == 3:
					return heldSet("c")
				default:
					return heldSet("c", "aa", "zz")
				}
			},
			endAt: 6,
			want:  []string{"count c", "count aa,zz", "manifest b"},
		},
		{
			name:  "pg_dump holds them all at once",
			held:  func(int) map[string]bool { return heldSet("aa", "b", "c", "zz") },
			want:  []string{"count aa,b,c,zz", "manifest "},
			endAt: 0,
		},
		{
			name:  "pg_dump's session is never seen",
			held:  func(int) map[string]bool { return nil },
			endAt: 4,
			want:  []string{"manifest aa,b,c,zz"},
		},
		{
			name:  "pg_dump's locks cannot be read",
			err:   errors.New("permission denied"),
			endAt: 1,
			want:  []string{"manifest aa,b,c,zz"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &lockSnapshot{held: tc.held, err: tc.err, endAt: tc.endAt, dumped: make(chan struct{})}
			tables := countTables("aa", "b", "c", "zz")
			got := <-countInSnapshot(t.Context(), s, tables, true, dumpApp("m1"), s.dumped)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if !slices.Equal(s.calls, tc.want) {
				t.Errorf("calls %q, want %q", s.calls, tc.want)
			}
			m := got.m
			if len(m.Tables) != 4 || m.Sequences["public.s"] != 7 {
				t.Fatalf("manifest %+v", m)
			}
			for i, tab := range tables {
				if m.Tables[i].Table != tab || m.Tables[i].Rows != int64(len(tab.Name)) || m.Content[tab.QualifiedName()] != "h"+tab.Name {
					t.Errorf("table %d: %+v, hash %q", i, m.Tables[i], m.Content[tab.QualifiedName()])
				}
			}
		})
	}
}

// Cancelled while it waits for pg_dump's locks, the count ends with the
// context's error.
func TestCountBehindDumpCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := &lockSnapshot{held: func(poll int) map[string]bool {
		if poll == 2 {
			cancel()
		}
		return nil
	}, dumped: make(chan struct{})}
	got := <-countInSnapshot(ctx, s, countTables("a"), false, dumpApp("m1"), s.dumped)
	if !errors.Is(got.err, context.Canceled) || len(s.calls) != 0 {
		t.Errorf("err %v, calls %q", got.err, s.calls)
	}
}
