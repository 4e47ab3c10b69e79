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
	mu   sync.Mutex
	held func(poll int) map[string]bool
	err  error // DumpLocks's error
	// contended, if set, says whether a table's lock would wait, at the
	// current poll.
	contended func(poll int, name string) bool
	polls     int
	endAt     int
	dumped    chan struct{}
	calls     []string
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

func (s *lockSnapshot) LockTables(_ context.Context, tables []Table) (locked, contended []Table, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tables {
		if s.contended != nil && s.contended(s.polls, t.Name) {
			contended = append(contended, t)
		} else {
			locked = append(locked, t)
		}
	}
	return locked, contended, nil
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

// The sequences and objects are read first; a table is counted only once
// pg_dump holds it, what pg_dump never holds once pg_dump has ended; the
// manifest keeps the tables' order and every table's hash.
func TestCountBehindDump(t *testing.T) {
	cases := []struct {
		name      string
		held      func(poll int) map[string]bool
		contended func(poll int, name string) bool
		err       error
		endAt     int
		want      []string
		fromDump  []string
	}{
		{
			name: "a TRUNCATE waits behind pg_dump on c for a poll, on zz to the end",
			held: func(int) map[string]bool { return heldSet("aa", "b", "c", "zz") },
			contended: func(poll int, name string) bool {
				return name == "zz" || (name == "c" && poll == 1)
			},
			endAt:    5,
			want:     []string{"manifest ", "count aa,b", "count c"},
			fromDump: []string{"zz"},
		},
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
			want:  []string{"manifest ", "count c", "count aa,zz", "count b"},
		},
		{
			name:  "pg_dump holds them all at once",
			held:  func(int) map[string]bool { return heldSet("aa", "b", "c", "zz") },
			want:  []string{"manifest ", "count aa,b,c,zz"},
			endAt: 0,
		},
		{
			name:  "pg_dump's session is never seen",
			held:  func(int) map[string]bool { return nil },
			endAt: 4,
			want:  []string{"manifest ", "count aa,b,c,zz"},
		},
		{
			name:  "pg_dump's locks cannot be read",
			err:   errors.New("permission denied"),
			endAt: 1,
			want:  []string{"manifest ", "count aa,b,c,zz"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &lockSnapshot{held: tc.held, contended: tc.contended, err: tc.err, endAt: tc.endAt, dumped: make(chan struct{})}
			tables := countTables("aa", "b", "c", "zz")
			got := <-countInSnapshot(t.Context(), s, tables, true, dumpApp("m1"), s.dumped)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if !slices.Equal(s.calls, tc.want) {
				t.Errorf("calls %q, want %q", s.calls, tc.want)
			}
			var fromDump []string
			for _, tab := range got.fromDump {
				fromDump = append(fromDump, tab.Name)
			}
			if !slices.Equal(fromDump, tc.fromDump) {
				t.Errorf("to count in the dump: %q, want %q", fromDump, tc.fromDump)
			}
			if len(tc.fromDump) > 0 {
				return // the dump step counts those
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
	if !errors.Is(got.err, context.Canceled) || !slices.Equal(s.calls, []string{"manifest "}) {
		t.Errorf("err %v, calls %q", got.err, s.calls)
	}
}

// copyRows counts the rows of a restore script's COPY statements, rows
// that look like SQL or like a terminator included, across writes cut
// anywhere.
func TestCopyRows(t *testing.T) {
	script := "--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n\n" +
		"COPY public.t (id, v) FROM stdin;\n1\tCOPY x\n2\t\\.\n3\t-- not a comment\n\\.\n\n" +
		"COPY public.u (id) FROM stdin;\n\\.\n" +
		"COPY public.w (id) FROM stdin;\n7\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n"
	for _, size := range []int{1, 2, 3, 7, len(script)} {
		var c copyRows
		for i := 0; i < len(script); i += size {
			_, _ = c.Write([]byte(script[i:min(i+size, len(script))]))
		}
		if c.rows != 4 || c.in {
			t.Errorf("writes of %d bytes: %d rows (in rows: %v), want 4", size, c.rows, c.in)
		}
	}
}
