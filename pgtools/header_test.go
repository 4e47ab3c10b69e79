package pgtools

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadArchiveHeader(t *testing.T) {
	tests := []struct {
		path                     string
		format, formatVersion    string
		compression              string
		dumpedBy, dumpedFrom     string
		listFixture              string
		dumpedByRaw, dumpedFrRaw string
	}{
		{"ea-15.dump", "CUSTOM", "1.14-0", "gzip", "15.18", "15.18", "list-15.txt", "15.18 (Debian 15.18-0+deb12u1)", "15.18 (Debian 15.18-0+deb12u1)"},
		{"ea-17.dump", "CUSTOM", "1.16-0", "gzip", "17.11", "16.14", "list-17.txt", "17.11", "16.14"},
		{"ea-17.dir", "DIRECTORY", "1.16-0", "gzip", "17.11", "16.14", "", "17.11", "16.14"},
		{"ea-17.tar", "TAR", "1.16-0", "none", "17.11", "16.14", "", "17.11", "16.14"},
	}
	for _, tt := range tests {
		h, err := ReadArchiveHeader(filepath.Join("testdata", tt.path))
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if h.Format != tt.format || h.FormatVersion != tt.formatVersion || h.Compression != tt.compression ||
			h.DumpedBy.String() != tt.dumpedBy || h.DumpedFrom.String() != tt.dumpedFrom ||
			h.DumpedBy.Raw != tt.dumpedByRaw || h.DumpedFrom.Raw != tt.dumpedFrRaw ||
			h.Database != "postgres" || h.Entries != 70 {
			t.Errorf("%s: header %+v", tt.path, h)
		}
		if tt.listFixture != "" {
			// pg_restore --list prints the same header.
			if lh := readTOCFixture(t, tt.listFixture).Header; lh != h {
				t.Errorf("%s: header from the archive\n%+v\nfrom pg_restore --list\n%+v", tt.path, h, lh)
			}
		}
	}
}

func TestReadArchiveHeaderErrors(t *testing.T) {
	dir := t.TempDir()
	full, err := os.ReadFile(filepath.Join("testdata", "ea-17.dump"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"plain.sql": []byte("--\n-- PostgreSQL database dump\n--\n"),
		"empty":     nil,
		"truncated": full[:40],
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if h, err := ReadArchiveHeader(path); !errors.Is(err, ErrNotArchive) {
			t.Errorf("%s: %+v, %v; want ErrNotArchive", name, h, err)
		}
	}
	if _, err := ReadArchiveHeader(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A directory without toc.dat.
	if _, err := ReadArchiveHeader(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory without toc.dat: %v", err)
	}
}
