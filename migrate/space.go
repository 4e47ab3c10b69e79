package migrate

// Free space: a custom-format dump is compressed, and holds table data
// but no indexes, so it is usually much smaller than the database on disk
// (a 192 MB database gave a 42 MB dump). The engine estimates the dump from
// the data to copy, refuses only what surely cannot fit, and warns when it
// is unsure; a disk that fills anyway stops the dump cleanly
// (DiskFullError).
const (
	// dumpRatio is the estimate of a dump's size per byte of table data
	// (gzip at pg_dump's default level, over typical rows and with room to
	// spare for data that compresses badly).
	dumpRatio = 0.5
	// surelyRatio is the least a dump takes per byte of table data: below
	// it, the dump cannot fit.
	surelyRatio = 0.05
)

// SpaceEstimate is what the free-space check found.
type SpaceEstimate struct {
	Dir  string `json:"dir"`
	Free int64  `json:"free_bytes"`
	// Estimate is the expected size of the dump; Known is set when it is
	// the size of an earlier dump of the same source.
	Estimate int64 `json:"estimate_bytes"`
	Known    bool  `json:"known,omitempty"`
}

// estimateDump estimates the dump of a source with dataBytes of table data;
// previous, when not 0, is the size of an earlier dump of it.
func estimateDump(dataBytes, previous int64) (int64, bool) {
	if previous > 0 {
		return previous, true
	}
	return int64(float64(dataBytes) * dumpRatio), false
}

// checkFreeSpace compares the room in dir with the dump's estimate. It
// returns a *DiskSpaceError when the dump surely cannot fit, and the
// estimate with warn set when it may not.
func checkFreeSpace(dir string, dataBytes, previous int64) (est SpaceEstimate, warn bool, err error) {
	free, ferr := freeSpace(dir)
	if ferr != nil {
		return est, false, nil // unknown: let pg_dump find out
	}
	need, known := estimateDump(dataBytes, previous)
	est = SpaceEstimate{Dir: dir, Free: free, Estimate: need, Known: known}
	switch {
	case known && float64(free) < 1.05*float64(need):
		return est, false, &DiskSpaceError{Dir: dir, Free: free, Need: need, Known: true}
	case !known && float64(free) < surelyRatio*float64(dataBytes):
		return est, false, &DiskSpaceError{Dir: dir, Free: free, Need: int64(surelyRatio * float64(dataBytes))}
	case free < need:
		return est, true, nil
	}
	return est, false, nil
}
