package live

import (
	"reflect"
	"testing"
)

func TestIdentityOf(t *testing.T) {
	for _, tc := range []struct {
		ident        string
		pk, identIdx bool
		want         Identity
	}{
		{"d", true, false, IdentityKey},
		{"d", false, false, IdentityNone},
		{"f", false, false, IdentityFull},
		{"i", true, true, IdentityIndex},
		{"i", true, false, IdentityNone},
		{"n", true, false, IdentityNone},
	} {
		if got := identityOf(tc.ident, tc.pk, tc.identIdx); got != tc.want {
			t.Errorf("identityOf(%q, %v, %v) = %s, want %s", tc.ident, tc.pk, tc.identIdx, got, tc.want)
		}
	}
}

func TestBlockers(t *testing.T) {
	ok := Probe{ServerVersion: 160004, WALLevel: "logical", Replication: true, MaxSlots: 10, UsedSlots: 9, MaxSenders: 10, UsedSenders: 9, CanCreate: true,
		Tables: []TableFacts{{Table: Table{"public", "a"}, Owned: true, Identity: IdentityKey}}}
	if b := blockers(&ok); len(b) != 0 {
		t.Fatalf("blockers %+v", b)
	}
	bad := Probe{ServerVersion: 90600, WALLevel: "replica", MaxSlots: 0, MaxSenders: 10, UsedSenders: 10,
		Tables: []TableFacts{{Table: Table{"public", "a"}}, {Table: Table{"public", "u"}, Unlogged: true}}}
	var kinds []BlockerKind
	for _, b := range blockers(&bad) {
		kinds = append(kinds, b.Kind)
		if b.Kind == BlockOwnership && !reflect.DeepEqual(b.Tables, []Table{{"public", "a"}}) {
			t.Errorf("ownership names %v, want public.a alone (an unlogged table is not published)", b.Tables)
		}
	}
	want := []BlockerKind{BlockServerVersion, BlockWALLevel, BlockRole, BlockSlots, BlockSenders, BlockCreate, BlockOwnership}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("blockers %v, want %v", kinds, want)
	}
	// A superuser needs neither REPLICATION, CREATE nor ownership.
	su := bad
	su.ServerVersion, su.WALLevel, su.Superuser, su.MaxSlots, su.MaxSenders = 170000, "logical", true, 10, 20
	if b := blockers(&su); len(b) != 0 {
		t.Errorf("superuser: blockers %+v", b)
	}
}

func TestPlan(t *testing.T) {
	p := &Probe{Superuser: true, Tables: []TableFacts{
		{Table: Table{"public", "keyed"}, Identity: IdentityKey},
		{Table: Table{"public", "nokey"}, Identity: IdentityNone},
		{Table: Table{"public", "consented"}, Identity: IdentityNone},
		{Table: Table{"public", "cache"}, Identity: IdentityKey, Unlogged: true},
	}}
	s := plan(p, SetupOptions{FullIdentity: []Table{{"public", "consented"}}, AllTables: true})
	if !reflect.DeepEqual(s.Published, []Table{{"public", "keyed"}, {"public", "consented"}}) ||
		!reflect.DeepEqual(s.CopyOnce, []Table{{"public", "nokey"}, {"public", "cache"}}) ||
		!reflect.DeepEqual(s.IdentityFull, []Table{{"public", "consented"}}) {
		t.Errorf("plan %+v", s)
	}
	if s.AllTables {
		t.Error("FOR ALL TABLES with a table without identity and no consent: its UPDATEs would fail on the source")
	}
	s = plan(&Probe{Superuser: true, Tables: p.Tables[:1]}, SetupOptions{AllTables: true})
	if !s.AllTables {
		t.Error("FOR ALL TABLES refused to a superuser whose tables all have identity")
	}
	s = plan(p, SetupOptions{Tables: []Table{{"public", "keyed"}}})
	if !reflect.DeepEqual(s.Published, []Table{{"public", "keyed"}}) || s.CopyOnce != nil {
		t.Errorf("only the tables asked for: %+v", s)
	}
}
