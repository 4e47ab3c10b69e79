package migrate

// checkFreeSpace refuses to dump a database of need bytes into a folder
// with less free space: a compressed dump is usually smaller than the
// database, but running out of disk mid-dump wastes the whole dump.
func checkFreeSpace(dir string, need int64) error {
	free, err := freeSpace(dir)
	if err != nil {
		return nil // unknown: let pg_dump find out
	}
	if free < need {
		return &DiskSpaceError{Dir: dir, Free: free, Need: need}
	}
	return nil
}
