package migrate

import "fmt"

// checkFreeSpace refuses to dump a database of need bytes into a folder
// with less free space: a compressed dump is usually smaller than the
// database, but running out of disk mid-dump wastes the whole dump.
func checkFreeSpace(dir string, need int64) error {
	free, err := freeSpace(dir)
	if err != nil {
		return nil // unknown: let pg_dump find out
	}
	if free < need {
		return withHint(fmt.Errorf("not enough free disk space in %s: %s free, the EA database is %s", dir, FormatBytes(free), FormatBytes(need)),
			"free some space, or run ppg migrate-from-ea from a folder on a larger disk")
	}
	return nil
}
