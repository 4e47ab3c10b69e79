package pgtools

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// StreamCopy reads the script that `pg_restore --verbose --file=-` writes
// for one table's data entry, without holding its rows: the preamble's
// settings, then the entry's "COPY ... FROM stdin;" and its rows. It calls
// load with the preamble, the COPY statement and a reader of the rows as
// they come (COPY's text format, up to the closing "\." without it), then
// reads the rest. A script that is not one entry holding one COPY is
// ErrScript, before load is called.
func StreamCopy(r io.Reader, load func(preamble []string, copySQL string, rows io.Reader) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var preamble []string
	inEntry := false
	for {
		line, err := br.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			if err == io.EOF {
				return fmt.Errorf("%w: no COPY statement", ErrScript)
			}
			return fmt.Errorf("read the restore script: %w", err)
		}
		line = strings.TrimRight(line, "\n")
		switch t := strings.TrimSpace(line); {
		case tocHeader.MatchString(line):
			if inEntry {
				return fmt.Errorf("%w: more than one entry", ErrScript)
			}
			inEntry = true
		case t == "" || strings.HasPrefix(t, "--") || !inEntry && strings.HasPrefix(t, `\restrict `):
		case !inEntry:
			preamble = append(preamble, t)
		case copyFromStdin.MatchString(line):
			rows := &copyRows{br: br, start: true}
			if err := load(preamble, line, rows); err != nil {
				return err
			}
			if !rows.done {
				return fmt.Errorf("%w: the rows were not all read", ErrScript)
			}
			_, err := io.Copy(io.Discard, br)
			return err
		default:
			return fmt.Errorf("%w: the entry holds %q before its COPY", ErrScript, firstWords(t))
		}
	}
}

func firstWords(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// copyRows reads a COPY's rows from a script, up to the line "\.", in
// reads as large as the caller asks (each becomes one CopyData message).
type copyRows struct {
	br *bufio.Reader
	// rest is the part of a line not handed out yet.
	rest []byte
	// start is set when the next byte read begins a line.
	start bool
	done  bool
}

var endOfCopy = []byte("\\.\n")

func (c *copyRows) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.rest) == 0 {
			if c.done {
				break
			}
			chunk, err := c.br.ReadSlice('\n')
			if c.start && (bytes.Equal(chunk, endOfCopy) || err == io.EOF && bytes.Equal(chunk, endOfCopy[:2])) {
				c.done = true
				break
			}
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				if err == io.EOF {
					err = fmt.Errorf("%w: the rows do not end", ErrScript)
				}
				return n, err
			}
			c.start = len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
			k := copy(p[n:], chunk)
			n += k
			c.rest = append(c.rest[:0], chunk[k:]...)
			continue
		}
		k := copy(p[n:], c.rest)
		n += k
		c.rest = c.rest[k:]
	}
	if n == 0 && c.done {
		return 0, io.EOF
	}
	return n, nil
}
