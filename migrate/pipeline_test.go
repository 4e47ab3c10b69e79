package migrate

import (
	"slices"
	"testing"

	"github.com/ppg-cli/ppg/pgtools"
)

func TestSplitPassesLeavesRefreshesAndEventTriggersLast(t *testing.T) {
	item := func(id int, desc string, deps ...int) scripted {
		return scripted{entry: pgtools.Entry{ID: id, Desc: desc}, script: pgtools.ScriptEntry{ID: id, Deps: deps}}
	}
	items := []scripted{
		item(1, "INDEX", 100),
		item(2, "MATERIALIZED VIEW DATA", 101),
		item(3, "EVENT TRIGGER", 102),
		item(4, "COMMENT", 3),
		item(5, "COMMENT", 1),
		item(6, "FK CONSTRAINT", 100),
	}
	main, later := splitPasses(items)
	ids := func(list []scripted) []int {
		var out []int
		for _, it := range list {
			out = append(out, it.entry.ID)
		}
		return out
	}
	if got := ids(main); !slices.Equal(got, []int{1, 5, 6}) {
		t.Errorf("main pass = %v, want [1 5 6]", got)
	}
	if got := ids(later); !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("later passes = %v, want [2 3 4] (the comment on the event trigger with it)", got)
	}
}
