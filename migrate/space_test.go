package migrate

import "testing"

func TestEstimateDump(t *testing.T) {
	// The case: 192 MB on disk, about 120 MB of table data, a
	// 42 MB dump, 105 MB free: it must not be refused.
	if n, known := estimateDump(120_000_000, 0); known || n > 105_000_000 {
		t.Errorf("estimate %d (known %v) refuses a dump that fits in 105 MB", n, known)
	}
	if n, known := estimateDump(120_000_000, 42_000_000); !known || n != 42_000_000 {
		t.Errorf("an earlier dump's size is not used: %d %v", n, known)
	}
}
