package pgtools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Entry is one line of an archive's table of contents, as `pg_restore
// --list` prints it:
//
//	3425; 0 16390 TABLE DATA public foo postgres
//	ID;   tableoid oid DESC SCHEMA NAME OWNER
//
// Name is pg_dump's "tag", which for some descriptions holds more than the
// object's name: "customers customers_pkey" for a CONSTRAINT (table, then
// constraint), "TABLE customers" for a COMMENT or ACL, "DEFAULT PRIVILEGES
// FOR TABLES" for a DEFAULT ACL.
//
// The format separates fields by single spaces without quoting, so it is
// ambiguous when names contain spaces. Descriptions are recognised from the
// known list (longest first), the schema is taken as the first word after
// the description and the owner as the last word, and the name as
// everything in between. Names with spaces ("order items") therefore parse
// correctly; schemas or owners with spaces do not (the extra words end up in
// Name). A name with a newline is printed with the newline replaced by a
// space. ID, the part pg_restore -L reads, is never ambiguous.
type Entry struct {
	// ID is the entry's dump ID, which pg_restore -L lists refer to.
	ID int
	// TableOID and OID identify the object in the source database's
	// catalogs (0 for entries that are not catalog objects).
	TableOID, OID uint32
	// Section is the entry's section. ParseTOCLine sets the section its
	// description implies, SectionNone for descriptions that imply none
	// (COMMENT, ACL, SECURITY LABEL, unknown ones); ParseTOC and ReadTOC
	// set the effective section, as pg_restore --section sees it: those
	// entries take the section of the entry before them.
	Section Section
	// Desc is the entry's description: "TABLE", "TABLE DATA", "INDEX",
	// "FK CONSTRAINT", "SEQUENCE SET", "MATERIALIZED VIEW DATA", "ACL",
	// "COMMENT" and so on.
	Desc string
	// Schema is the entry's schema, empty for objects outside schemas
	// (printed as "-").
	Schema string
	// Name is the entry's tag (see the type's comment).
	Name string
	// Owner is the entry's owner; empty for entries without one.
	Owner string
	// Raw is the line as pg_restore printed it.
	Raw string
}

// QualifiedName returns "schema.name", or the name alone when the entry
// has no schema: the text pg_restore's verbose output quotes for the
// entry ("processing data for table "app.order items"").
func (e Entry) QualifiedName() string {
	if e.Schema == "" {
		return e.Name
	}
	return e.Schema + "." + e.Name
}

// TOC is an archive's table of contents: its header and its entries in
// archive order.
type TOC struct {
	// Header is what the list's header comments say about the archive.
	Header ArchiveHeader
	// Entries are the archive's entries in archive order.
	Entries []Entry
}

// ErrTOCLine reports a line of `pg_restore --list` output that is neither a
// comment nor an entry. ParseTOCLine's and ParseTOC's errors wrap it.
var ErrTOCLine = errors.New("not a table of contents entry")

// ParseTOCLine parses one entry line of `pg_restore --list` output. Comment
// lines (starting with ';'), blank lines and anything else that is not an
// entry give an error wrapping ErrTOCLine. Section is the section the
// description implies (see Entry.Section).
func ParseTOCLine(line string) (Entry, error) {
	line = strings.TrimRight(line, "\r\n")
	bad := func(why string) (Entry, error) {
		return Entry{}, fmt.Errorf("%w: %s: %q", ErrTOCLine, why, truncate(line, 200))
	}
	if strings.ContainsAny(line, "\r\n") {
		return bad("more than one line")
	}
	idText, rest, ok := strings.Cut(line, "; ")
	if !ok {
		return bad("no \"; \" after the id")
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id <= 0 {
		return bad("bad id")
	}
	tableOIDText, rest, ok1 := strings.Cut(rest, " ")
	oidText, rest, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return bad("no catalog id")
	}
	tableOID, err1 := strconv.ParseUint(tableOIDText, 10, 32)
	oid, err2 := strconv.ParseUint(oidText, 10, 32)
	if err1 != nil || err2 != nil {
		return bad("bad catalog id")
	}
	desc, rest, ok := splitDesc(rest, 3)
	if !ok || desc == "" {
		return bad("no description")
	}
	schema, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return bad("no name")
	}
	i := strings.LastIndexByte(rest, ' ')
	if i < 0 {
		return bad("no owner")
	}
	if schema == "-" {
		schema = ""
	}
	return Entry{
		ID:       id,
		TableOID: uint32(tableOID),
		OID:      uint32(oid),
		Section:  descSection(desc),
		Desc:     desc,
		Schema:   schema,
		Name:     rest[:i],
		Owner:    rest[i+1:],
		Raw:      line,
	}, nil
}

// ParseTOC parses the output of `pg_restore --list`: the header comments
// into Header, the entries into Entries with their effective sections.
// `pg_restore --list --verbose` output (with "depends on" comments) parses
// the same.
func ParseTOC(r io.Reader) (*TOC, error) {
	var b tocBuilder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	for sc.Scan() {
		b.add(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read table of contents: %w", err)
	}
	return b.result()
}

// ReadTOC runs `pg_restore --list archive` with the pg_restore restore and
// parses its output as it streams, as ParseTOC does. Errors from running
// pg_restore are *ExitError (for example an archive written by a newer
// pg_dump than restore: "unsupported version (1.16) in file header").
func (r *Runner) ReadTOC(ctx context.Context, restore Tool, archive string) (*TOC, error) {
	var b tocBuilder
	out := newLineWriter(maxLineBytes, b.add)
	err := r.Run(ctx, Cmd{Tool: restore, Args: []string{"--list", archive}, Stdout: out})
	out.Flush()
	if err != nil {
		return nil, fmt.Errorf("read table of contents of %s: %w", archive, err)
	}
	toc, err := b.result()
	if err != nil {
		return nil, fmt.Errorf("read table of contents of %s: %w", archive, err)
	}
	return toc, nil
}

// tocBuilder collects a table of contents line by line.
type tocBuilder struct {
	toc     TOC
	section Section
	err     error
}

func (b *tocBuilder) add(line string) {
	line = strings.TrimRight(line, "\r")
	switch {
	case b.err != nil:
	case strings.TrimSpace(line) == "":
	case strings.HasPrefix(line, ";"):
		b.toc.Header.parseListComment(line)
	default:
		e, err := ParseTOCLine(line)
		if err != nil {
			b.err = err
			return
		}
		// As pg_restore does: entries without a section belong to the
		// section of the entry before them, and the first ones to pre-data.
		if b.section == SectionNone {
			b.section = SectionPreData
		}
		if e.Section == SectionNone {
			e.Section = b.section
		}
		b.section = e.Section
		b.toc.Entries = append(b.toc.Entries, e)
	}
}

func (b *tocBuilder) result() (*TOC, error) {
	if b.err != nil {
		return nil, b.err
	}
	toc := b.toc
	return &toc, nil
}

// WriteList writes entries as a list file for `pg_restore -L`, which
// restores exactly the listed entries, in the order of the file: keep the
// archive's order (the order ReadTOC returns) unless reordering is the
// point. Entries are written as their Raw line when it starts with their
// ID, else rebuilt in --list format; pg_restore reads only the ID before
// the ';'.
func WriteList(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, ";\n; %d entries selected by ppg\n;\n", len(entries))
	for _, e := range entries {
		if e.ID <= 0 {
			return fmt.Errorf("write list: entry %q has no id", e.QualifiedName())
		}
		line := e.Raw
		if !strings.HasPrefix(line, strconv.Itoa(e.ID)+";") || strings.ContainsAny(line, "\r\n") {
			schema := e.Schema
			if schema == "" {
				schema = "-"
			}
			line = fmt.Sprintf("%d; %d %d %s %s %s %s", e.ID, e.TableOID, e.OID, e.Desc, schema,
				oneLine(e.Name), oneLine(e.Owner))
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write list: %w", err)
	}
	return nil
}

// oneLine replaces line breaks with spaces, as pg_restore --list does.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// truncate shortens s to at most n bytes for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
