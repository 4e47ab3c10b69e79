package live

import (
	"errors"
	"strings"
	"testing"
)

// TestApplyErrorNamesTheTableOnlyWhenKnown: a batch the target failed as
// a whole (a terminated session) names no table, not ".".
func TestApplyErrorNamesTheTableOnlyWhenKnown(t *testing.T) {
	cause := errors.New("terminating connection due to administrator command")
	whole := (&ApplyError{LSN: 0x1B739F8, Err: cause}).Error()
	if strings.Contains(whole, " . ") || !strings.HasPrefix(whole, "apply changes (source transaction at 0/1B739F8)") {
		t.Errorf("without a table: %q", whole)
	}
	one := (&ApplyError{Table: Table{Schema: "public", Name: "items"}, LSN: 0x1B739F8, Err: cause}).Error()
	if !strings.HasPrefix(one, "apply a change to public.items (source transaction at 0/1B739F8)") {
		t.Errorf("with a table: %q", one)
	}
}
