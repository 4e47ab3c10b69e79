package pgtools

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ArchiveHeader is what an archive says about itself: who wrote it, from
// which server, in which format.
type ArchiveHeader struct {
	// Format is "CUSTOM", "DIRECTORY" or "TAR".
	Format string
	// FormatVersion is the archive format's version, "1.16-0" for pg_dump
	// 17. A pg_restore older than the pg_dump that wrote the archive may
	// not read it ("unsupported version (1.16) in file header").
	FormatVersion string
	// Database is the name of the database that was dumped.
	Database string
	// Entries is the number of TOC entries.
	Entries int
	// Compression is "none", "gzip", "lz4" or "zstd" (empty if unknown).
	Compression string
	// DumpedFrom is the version of the server that was dumped.
	DumpedFrom Version
	// DumpedBy is the version of the pg_dump that wrote the archive.
	DumpedBy Version
}

// ErrNotArchive reports a file that is not a custom-, directory- or
// tar-format pg_dump archive (a plain SQL dump, say). ReadArchiveHeader's
// errors wrap it.
var ErrNotArchive = errors.New("not a pg_dump archive")

// parseListComment reads one header comment of `pg_restore --list` output:
//
//	;     Dumped from database version: 16.14
//	;     Dumped by pg_dump version: 17.11
func (h *ArchiveHeader) parseListComment(line string) {
	key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, ";")), ": ")
	if !ok {
		return
	}
	value = strings.TrimSpace(value)
	switch key {
	case "dbname":
		h.Database = value
	case "TOC Entries":
		h.Entries, _ = strconv.Atoi(value)
	case "Compression":
		h.Compression = compressionName(value)
	case "Dump Version":
		h.FormatVersion = value
	case "Format":
		h.Format = value
	case "Dumped from database version":
		h.DumpedFrom, _ = ParseVersion(value)
	case "Dumped by pg_dump version":
		h.DumpedBy, _ = ParseVersion(value)
	}
}

// compressionName normalises what pg_restore --list prints for the
// compression: a method name from 16 on, a zlib level before ("-1", "0").
func compressionName(s string) string {
	if n, err := strconv.Atoi(s); err == nil {
		if n == 0 {
			return "none"
		}
		return "gzip"
	}
	return s
}

// ReadArchiveHeader reads the header of the archive at path (a
// custom-format file, a tar-format file, or a directory-format directory,
// whose toc.dat it reads) without running pg_restore, so it works where
// pg_restore is too old to open the archive. Files that are not archives
// give an error wrapping ErrNotArchive.
func ReadArchiveHeader(path string) (ArchiveHeader, error) {
	file := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		file = filepath.Join(path, "toc.dat")
	}
	f, err := os.Open(file)
	if err != nil {
		return ArchiveHeader{}, fmt.Errorf("read archive header: %w", err)
	}
	defer func() { _ = f.Close() }() // opened for reading: Close has nothing to report
	h, err := parseArchiveHeader(bufio.NewReader(f))
	if err != nil {
		return ArchiveHeader{}, fmt.Errorf("read archive header of %s: %w", path, err)
	}
	if file != path {
		h.Format = "DIRECTORY"
	}
	return h, nil
}

// headerReader reads pg_dump's header encoding: bytes, and integers as a
// sign byte followed by intSize little-endian bytes.
type headerReader struct {
	r       *bufio.Reader
	intSize int
	err     error
}

func (hr *headerReader) byte() int {
	if hr.err != nil {
		return 0
	}
	b, err := hr.r.ReadByte()
	if err != nil {
		hr.err = err
		return 0
	}
	return int(b)
}

func (hr *headerReader) int() int {
	neg := hr.byte() != 0
	var n uint64
	for i := 0; i < hr.intSize; i++ {
		n |= uint64(hr.byte()) << (8 * i)
	}
	if hr.err == nil && n > 1<<31 {
		hr.err = errors.New("integer out of range")
	}
	if neg {
		return -int(n)
	}
	return int(n)
}

// str reads a length-prefixed string; a negative length is a NULL.
func (hr *headerReader) str() string {
	n := hr.int()
	if hr.err != nil || n <= 0 {
		return ""
	}
	if n > 4096 {
		hr.err = fmt.Errorf("string of %d bytes in header", n)
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(hr.r, b); err != nil {
		hr.err = err
		return ""
	}
	return string(b)
}

// parseArchiveHeader decodes the header pg_dump writes (WriteHead in
// pg_backup_archiver.c) and the TOC entry count that follows it.
func parseArchiveHeader(r *bufio.Reader) (ArchiveHeader, error) {
	// A tar-format archive starts with the tar header of its toc.dat; the
	// file's content, the usual header, starts at the next 512-byte block.
	format := "CUSTOM"
	if b, err := r.Peek(8); err == nil && bytes.Equal(b, []byte("toc.dat\x00")) {
		if _, err := r.Discard(512); err != nil {
			return ArchiveHeader{}, fmt.Errorf("%w: short tar header", ErrNotArchive)
		}
		format = "TAR"
	}
	magic := make([]byte, 5)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "PGDMP" {
		return ArchiveHeader{}, ErrNotArchive
	}
	hr := &headerReader{r: r}
	vmaj, vmin, vrev := hr.byte(), hr.byte(), hr.byte()
	version := vmaj<<16 | vmin<<8 | vrev
	atLeast := func(maj, min int) bool { return version >= maj<<16|min<<8 }
	hr.intSize = hr.byte()
	if hr.err == nil && (hr.intSize < 1 || hr.intSize > 8) {
		return ArchiveHeader{}, fmt.Errorf("%w: integer size %d", ErrNotArchive, hr.intSize)
	}
	if !atLeast(1, 10) {
		// pg_dump 8.x; its header holds no versions and its integers no
		// sign byte in the oldest variants.
		return ArchiveHeader{}, fmt.Errorf("archive format %d.%d is too old to read (pg_dump before 9.0)", vmaj, vmin)
	}
	h := ArchiveHeader{Format: format, FormatVersion: fmt.Sprintf("%d.%d-%d", vmaj, vmin, vrev)}
	hr.byte() // offset size
	// The format byte is 1 in custom-format files and, as pg_dump 17
	// writes them, 3 in the toc.dat of both tar- and directory-format
	// archives; the container tells those apart (ReadArchiveHeader).
	if f := hr.byte(); hr.err == nil && f != 1 && f != 3 && f != 5 {
		return ArchiveHeader{}, fmt.Errorf("%w: unknown format %d", ErrNotArchive, f)
	}
	if atLeast(1, 15) {
		switch hr.byte() {
		case 0:
			h.Compression = "none"
		case 1:
			h.Compression = "gzip"
		case 2:
			h.Compression = "lz4"
		case 3:
			h.Compression = "zstd"
		}
	} else {
		h.Compression = compressionName(strconv.Itoa(hr.int()))
	}
	for range 7 { // creation time: sec, min, hour, mday, mon, year, isdst
		hr.int()
	}
	h.Database = hr.str()
	from, by := hr.str(), hr.str()
	h.Entries = hr.int()
	if hr.err != nil {
		return ArchiveHeader{}, fmt.Errorf("%w: truncated header: %v", ErrNotArchive, hr.err)
	}
	var err error
	if h.DumpedFrom, err = ParseVersion(from); err != nil {
		return ArchiveHeader{}, fmt.Errorf("server version in header: %w", err)
	}
	if h.DumpedBy, err = ParseVersion(by); err != nil {
		return ArchiveHeader{}, fmt.Errorf("pg_dump version in header: %w", err)
	}
	return h, nil
}
