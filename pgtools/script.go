package pgtools

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Script is the SQL that `pg_restore --verbose --file=-` writes for a
// section, split into its TOC entries, so that ppg can send the entries
// itself, many to a round trip, instead of pg_restore's one statement at a
// time.
//
// pg_restore writes, in order: a preamble of session settings; then, for
// each entry, a comment header naming the entry's dump ID and its
// dependencies, followed by the entry's SQL. Between entries it may set
// session state for the entries that follow (default_tablespace,
// default_table_access_method, search_path); Script keeps that state with
// each entry, so an entry can run on any connection.
type Script struct {
	// Preamble holds the session settings pg_restore sets first, one
	// statement each ("SET statement_timeout = 0;").
	Preamble []string
	// Entries are the section's entries, in the script's order.
	Entries []ScriptEntry
}

// ScriptEntry is one TOC entry of a Script.
type ScriptEntry struct {
	// ID is the entry's dump ID (as in Entry.ID and -L lists).
	ID int
	// Deps are the dump IDs the entry depends on, as pg_dump recorded
	// them.
	Deps []int
	// SQL is the entry's statements, without the comment header.
	SQL string
	// Settings are the session settings in force for the entry, beyond
	// the preamble ("SET default_tablespace = '';"), in the order set.
	Settings []string
	// Copy is set for a table's data: SQL is then the entry's
	// "COPY ... FROM stdin;" and Copy its rows in COPY's text format, each
	// line ending in a newline, without the closing "\.".
	Copy []byte
}

// ErrScript reports pg_restore output that is not shaped as Script
// expects (for example written without --verbose, which leaves out the
// dump IDs). The caller restores the section with pg_restore instead.
var ErrScript = errors.New("restore script not in the expected form")

var (
	tocHeader = regexp.MustCompile(`^-- TOC entry (\d+) \(class \d+ OID \d+\)$`)
	// copyFromStdin is a data entry's statement, its rows following.
	copyFromStdin = regexp.MustCompile(`^COPY .+ FROM stdin;$`)
	// sessionSetting matches what pg_restore writes between entries to
	// change the session for the entries that follow.
	sessionSetting = regexp.MustCompile(`^(SET (default_tablespace|default_table_access_method|search_path) = .*;|SET SESSION AUTHORIZATION .*;|RESET SESSION AUTHORIZATION;)$`)
)

// maxScriptLine bounds one line of a script (a long function body or
// view definition is one line only when it has no newlines).
const maxScriptLine = 64 << 20

// ErrScriptTooLarge reports a script longer than the limit given to
// ParseScriptLimit: it stops reading there.
var ErrScriptTooLarge = errors.New("restore script larger than the limit")

// ParseScript reads the output of `pg_restore --verbose --file=-`.
func ParseScript(r io.Reader) (*Script, error) { return ParseScriptLimit(r, 0) }

// ParseScriptLimit is ParseScript that gives up with ErrScriptTooLarge
// once it has read more than limit bytes (0: no limit), so that what it
// holds stays bounded.
func ParseScriptLimit(r io.Reader, limit int64) (*Script, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxScriptLine)
	p := &scriptParser{s: &Script{}}
	var read int64
	for sc.Scan() {
		if read += int64(len(sc.Bytes())) + 1; limit > 0 && read > limit {
			return nil, fmt.Errorf("%w (%d bytes)", ErrScriptTooLarge, limit)
		}
		if err := p.line(sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the restore script: %w", err)
	}
	return p.end()
}

// scriptParser is ParseScript's state between lines.
type scriptParser struct {
	s        *Script
	restrict string   // the \restrict key, whose \unrestrict ends the script
	body     []string // lines of the current entry, or of the preamble
	settings []string // session state set between entries
	cur      *ScriptEntry
	pending  []string // comment lines that may be a header
	copying  bool     // reading a COPY's rows, up to "\."
}

// line takes one line of the script.
func (p *scriptParser) line(line string) error {
	if p.copying {
		// Rows are data, whatever they look like: a row may start with
		// "--" or a backslash.
		if line == `\.` {
			p.copying = false
		} else {
			p.cur.Copy = append(append(p.cur.Copy, line...), '\n')
		}
		return nil
	}
	if p.restrict == "" && p.cur == nil && strings.HasPrefix(line, `\restrict `) {
		p.restrict = strings.TrimPrefix(line, `\restrict `)
		return nil
	}
	if p.restrict != "" && line == `\unrestrict `+p.restrict {
		return nil
	}
	if len(p.pending) > 0 || line == "--" {
		p.headerLine(line)
		return nil
	}
	p.body = append(p.body, line)
	if p.cur != nil && copyFromStdin.MatchString(line) {
		if p.cur.Copy != nil {
			return fmt.Errorf("%w: entry %d holds two COPY statements", ErrScript, p.cur.ID)
		}
		p.copying, p.cur.Copy = true, []byte{}
	}
	return nil
}

// headerLine takes a line that may belong to an entry's header: "--",
// "-- TOC entry N (...)", optional "-- Dependencies: ...", "-- Name:
// ...", optional "-- Data Pos: ...", "--".
func (p *scriptParser) headerLine(line string) {
	p.pending = append(p.pending, line)
	id, deps, ok, done := header(p.pending)
	switch {
	case !done:
	case ok:
		p.flush()
		p.cur = &ScriptEntry{ID: id, Deps: deps, Settings: append([]string(nil), p.settings...)}
		p.pending = nil
	case line == "--":
		// Not a header so far, but this line may begin one.
		p.body = append(p.body, p.pending[:len(p.pending)-1]...)
		p.pending = p.pending[len(p.pending)-1:]
	default:
		p.body = append(p.body, p.pending...)
		p.pending = nil
	}
}

// flush ends the current entry, or the preamble.
func (p *scriptParser) flush() {
	lines := trimTrailing(p.body)
	// Settings at the end of an entry's text are for the entries after
	// it.
	var next []string
	for len(lines) > 0 && sessionSetting.MatchString(lines[len(lines)-1]) {
		next = append([]string{lines[len(lines)-1]}, next...)
		lines = trimTrailing(lines[:len(lines)-1])
	}
	if p.cur == nil {
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				p.s.Preamble = append(p.s.Preamble, l)
			}
		}
	} else {
		for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
			lines = lines[1:]
		}
		p.cur.SQL = strings.Join(lines, "\n")
		p.s.Entries = append(p.s.Entries, *p.cur)
	}
	p.settings = mergeSettings(p.settings, next)
	p.body = nil
}

// end finishes the script once its last line is read.
func (p *scriptParser) end() (*Script, error) {
	if p.copying {
		return nil, fmt.Errorf("%w: the rows of entry %d do not end", ErrScript, p.cur.ID)
	}
	p.body = append(p.body, p.pending...)
	p.flush()
	s := p.s
	if len(s.Preamble) == 0 && len(s.Entries) == 0 {
		return nil, fmt.Errorf("%w: no preamble and no entries", ErrScript)
	}
	for _, en := range s.Entries {
		if strings.Contains(en.SQL, "\n\\") || strings.HasPrefix(en.SQL, `\`) {
			return nil, fmt.Errorf("%w: entry %d holds a psql command", ErrScript, en.ID)
		}
	}
	return s, nil
}

// header looks at the comment lines gathered so far: done is set once
// they are known to be a header (ok) or not.
func header(lines []string) (id int, deps []int, ok, done bool) {
	n := len(lines)
	switch {
	case n == 1:
		return 0, nil, false, false
	case n == 2:
		if !tocHeader.MatchString(lines[1]) {
			return 0, nil, false, true
		}
		return 0, nil, false, false
	}
	last := lines[n-1]
	if last == "--" {
		m := tocHeader.FindStringSubmatch(lines[1])
		id, _ = strconv.Atoi(m[1])
		named := false
		for _, l := range lines[2 : n-1] {
			switch {
			case strings.HasPrefix(l, "-- Dependencies: "):
				for _, f := range strings.Fields(strings.TrimPrefix(l, "-- Dependencies: ")) {
					d, err := strconv.Atoi(f)
					if err != nil {
						return 0, nil, false, true
					}
					deps = append(deps, d)
				}
			case strings.HasPrefix(l, "-- Name: "), strings.HasPrefix(l, "-- Data for Name: "):
				named = true
			}
		}
		return id, deps, named, true
	}
	if !strings.HasPrefix(last, "-- ") || n > 8 {
		return 0, nil, false, true
	}
	return 0, nil, false, false
}

func trimTrailing(lines []string) []string {
	for len(lines) > 0 {
		l := strings.TrimSpace(lines[len(lines)-1])
		if l != "" && !strings.HasPrefix(l, "-- ") && l != "--" {
			break
		}
		lines = lines[:len(lines)-1]
	}
	return lines
}

// mergeSettings applies next to the session state: a setting replaces an
// earlier one of the same variable.
func mergeSettings(state, next []string) []string {
	for _, n := range next {
		key := settingKey(n)
		out := state[:0:0]
		for _, s := range state {
			if settingKey(s) != key {
				out = append(out, s)
			}
		}
		state = append(out, n)
	}
	return state
}

func settingKey(s string) string {
	if strings.Contains(s, "SESSION AUTHORIZATION") {
		return "session_authorization"
	}
	k, _, _ := strings.Cut(strings.TrimPrefix(s, "SET "), " ")
	return k
}
