package pgtools

import (
	"strconv"
	"strings"
)

// LineKind classifies a line of pg_dump or pg_restore --verbose output.
type LineKind int

// Line kinds.
const (
	// KindOther is any line not classified below: "pg_dump: reading
	// extensions", "pg_restore: connecting to database for restore",
	// "pg_restore: from TOC entry …", server notices.
	KindOther LineKind = iota
	// KindTableDataStarted: a table's data starts to be dumped or restored.
	//	pg_dump: dumping contents of table "public.foo"
	//	pg_restore: processing data for table "public.foo"
	KindTableDataStarted
	// KindTableDataFinished: a table's data is done. Parallel runs (-j)
	// print it ("pg_dump: finished item 3349 TABLE DATA foo", same for
	// pg_restore); serial runs print nothing, and Parser infers it (see
	// Parser). Its Name carries no schema when printed, as the line has
	// none; EntryID identifies the TOC entry.
	KindTableDataFinished
	// KindObjectCreated: pg_restore creates or runs a TOC entry.
	//	pg_restore: creating TABLE "public.foo"
	//	pg_restore: creating FK CONSTRAINT "public.foo foo_bar_fkey"
	//	pg_restore: executing SEQUENCE SET foo_id_seq
	KindObjectCreated
	// KindItemStarted: a parallel run hands an entry to a worker.
	//	pg_restore: launching item 3349 TABLE DATA foo
	KindItemStarted
	// KindItemFinished: a parallel run's worker is done with an entry that
	// is not TABLE DATA (those are KindTableDataFinished).
	//	pg_restore: finished item 3181 INDEX foo_idx
	KindItemFinished
	// KindWarning: "pg_dump: warning: …", "pg_restore: warning: …", or a
	// server WARNING passed through ("pg_restore: WARNING:  …").
	KindWarning
	// KindError: "pg_restore: error: …" (or "fatal:"), grouped by Parser
	// with the lines that continue it (DETAIL, "Command was: …").
	KindError
	// KindErrorsIgnored: pg_restore's closing "warning: errors ignored on
	// restore: N", with N in Count. It is printed only when the restore
	// ran to its end.
	KindErrorsIgnored
	// KindContinuation: a line that continues the message before it (no
	// tool prefix, or "detail:"/"hint:"). Only ParseLine returns it;
	// Parser folds such lines into the message they continue.
	KindContinuation
)

var kindNames = [...]string{
	KindOther:             "other",
	KindTableDataStarted:  "table-data-started",
	KindTableDataFinished: "table-data-finished",
	KindObjectCreated:     "object-created",
	KindItemStarted:       "item-started",
	KindItemFinished:      "item-finished",
	KindWarning:           "warning",
	KindError:             "error",
	KindErrorsIgnored:     "errors-ignored",
	KindContinuation:      "continuation",
}

// String returns a short lower-case name for k.
func (k LineKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Line is one parsed line of verbose output, or one grouped multi-line
// message (errors and warnings with their continuation lines).
//
// Names are parsed from text the tools print without quoting or escaping:
// "public.we"ird.name" is schema "public", name `we"ird.name` (the schema is
// cut at the first dot, so a schema with a dot in its name parses wrongly).
// QualifiedName returns the text as printed, which always matches
// Entry.QualifiedName of the same object.
type Line struct {
	// Raw is the line as printed; for a grouped message, all its lines
	// joined by "\n" without trailing blank lines. Empty for a
	// KindTableDataFinished that Parser inferred.
	Raw string
	// Kind classifies the line.
	Kind LineKind
	// Tool is the program prefix of the line ("pg_dump", "pg_restore"),
	// empty for lines without one (continuations, and parallel workers'
	// lines that lost it to another worker's write).
	Tool string
	// ObjectType is the TOC description the line is about: "TABLE",
	// "TABLE DATA", "FK CONSTRAINT", "SEQUENCE SET"…; for errors, that of
	// the entry pg_restore named in its "from TOC entry" line.
	ObjectType string
	// Schema and Name identify the object (Name is the TOC tag, see
	// Entry). Either may be empty when the line does not say.
	Schema, Name string
	// EntryID is the TOC entry's dump ID when the line names it
	// (parallel item lines, "from TOC entry" lines, errors that follow
	// one); 0 otherwise.
	EntryID int
	// Count is the number of errors for KindErrorsIgnored.
	Count int
	// Message is the text after "error: "/"warning: "/"WARNING:" for
	// KindError and KindWarning.
	Message string
	// Detail holds continuation lines other than the command (DETAIL,
	// HINT, CONTEXT, "detail:" lines), joined by "\n".
	Detail string
	// Command is the SQL pg_restore reported after "Command was:", for
	// KindError.
	Command string
	// Failed reports, for KindTableDataFinished, that an error was
	// reported for the table's data (a COPY that failed: the table may be
	// empty or partly loaded).
	Failed bool
	// Inferred reports, for KindTableDataFinished, that Parser inferred
	// the end of the table's data rather than reading it.
	Inferred bool
}

// QualifiedName returns "schema.name", or the name alone when the line
// names no schema.
func (l Line) QualifiedName() string {
	if l.Schema == "" {
		return l.Name
	}
	return l.Schema + "." + l.Name
}

// toolPrefixes are the program names the tools print before their own
// messages (without ".exe" on Windows).
var toolPrefixes = [...]string{"pg_restore", "pg_dump", "pg_dumpall"}

// cutTool splits "pg_dump: message" into "pg_dump" and "message". It also
// takes the prefixes that parallel workers' interleaved writes leave:
// "pg_restore:pg_restore:  processing data …" is "pg_restore" and
// "processing data …" (seen in testdata/pg_restore-17-j2.txt).
func cutTool(raw string) (tool, msg string, ok bool) {
	msg = raw
	for {
		t, rest, found := cutOneTool(msg)
		if !found {
			return tool, msg, ok
		}
		tool, msg, ok = t, strings.TrimLeft(rest, " "), true
	}
}

func cutOneTool(s string) (tool, rest string, ok bool) {
	for _, t := range toolPrefixes {
		if rest, found := strings.CutPrefix(s, t+":"); found {
			return t, rest, true
		}
	}
	return "", s, false
}

// ParseLine classifies one line of pg_dump or pg_restore --verbose output
// on its own, without the context of the lines before it (Parser adds that).
// It never fails: lines it does not recognise are KindOther, lines without
// a tool prefix KindContinuation.
func ParseLine(raw string) Line {
	l, _ := parseLine(raw)
	return l
}

// parseLine is ParseLine; groups reports whether continuation lines may
// follow (errors, warnings, server notices).
func parseLine(raw string) (l Line, groups bool) {
	l = Line{Raw: raw}
	tool, msg, ok := cutTool(raw)
	if !ok {
		l.Kind = KindContinuation
		return l, false
	}
	l.Tool = tool
	if rest, ok := cutAny(msg, "error: ", "fatal: "); ok {
		if strings.HasPrefix(rest, "query was: ") {
			// pg_dump before 15 printed the failed query as a second error.
			l.Kind = KindContinuation
			return l, false
		}
		l.Kind, l.Message = KindError, rest
		if name, ok := strings.CutPrefix(rest, `COPY failed for table "`); ok {
			if i := strings.Index(name, `": `); i >= 0 {
				l.ObjectType, l.Name = "TABLE DATA", name[:i]
			}
		}
		return l, true
	}
	if rest, ok := cutAny(msg, "warning: ", "WARNING:  ", "WARNING: "); ok {
		if n, ok := errorsIgnored(rest); ok {
			l.Kind, l.Count = KindErrorsIgnored, n
			return l, false
		}
		l.Kind, l.Message = KindWarning, rest
		return l, true
	}
	if _, ok := cutAny(msg, "detail: ", "hint: "); ok {
		l.Kind = KindContinuation
		return l, false
	}
	l.Kind = KindOther
	switch {
	case strings.HasPrefix(msg, "NOTICE:") || strings.HasPrefix(msg, "INFO:") ||
		strings.HasPrefix(msg, "LOG:") || strings.HasPrefix(msg, "DEBUG:"):
		return l, true
	case strings.HasPrefix(msg, "dumping contents of table "):
		l.Kind, l.ObjectType = KindTableDataStarted, "TABLE DATA"
		l.Schema, l.Name = splitQuoted(strings.TrimPrefix(msg, "dumping contents of table "), "TABLE DATA")
	case strings.HasPrefix(msg, "processing data for table "):
		l.Kind, l.ObjectType = KindTableDataStarted, "TABLE DATA"
		l.Schema, l.Name = splitQuoted(strings.TrimPrefix(msg, "processing data for table "), "TABLE DATA")
	case strings.HasPrefix(msg, "creating "):
		// creating DESC "schema.tag" (or "tag" without a schema)
		rest := strings.TrimPrefix(msg, "creating ")
		if i := strings.Index(rest, ` "`); i > 0 {
			l.Kind, l.ObjectType = KindObjectCreated, rest[:i]
			l.Schema, l.Name = splitQuoted(rest[i+1:], l.ObjectType)
		}
	case strings.HasPrefix(msg, "executing "):
		// executing DESC tag (SEQUENCE SET, BLOB, BLOB METADATA)
		if desc, tag, ok := splitDesc(strings.TrimPrefix(msg, "executing "), 1); ok {
			l.Kind, l.ObjectType, l.Name = KindObjectCreated, desc, tag
		}
	case strings.HasPrefix(msg, "launching item "):
		if parseItem(&l, strings.TrimPrefix(msg, "launching item ")) {
			l.Kind = KindItemStarted
		}
	case strings.HasPrefix(msg, "finished item "):
		if parseItem(&l, strings.TrimPrefix(msg, "finished item ")) {
			l.Kind = KindItemFinished
			if l.ObjectType == "TABLE DATA" {
				l.Kind = KindTableDataFinished
			}
		}
	case strings.HasPrefix(msg, "processing item "):
		// The leader of a parallel restore, working through pre-data
		// itself; a "creating" line follows.
		parseItem(&l, strings.TrimPrefix(msg, "processing item "))
	case strings.HasPrefix(msg, "from TOC entry "):
		// from TOC entry 223; 1259 16437 TABLE audit ea_owner
		parseErrorEntry(&l, strings.TrimPrefix(msg, "from TOC entry "))
	}
	return l, false
}

// cutAny is strings.CutPrefix for the first of several prefixes.
func cutAny(s string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest, true
		}
	}
	return s, false
}

// errorsIgnored reads "errors ignored on restore: N".
func errorsIgnored(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "errors ignored on restore: ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(rest))
	return n, err == nil
}

// splitQuoted parses `"schema.tag"` as printed by pg_dump and pg_restore:
// the text between the first and the last double quote, unescaped. The
// schema is cut at the first dot, unless desc is for objects without a
// schema.
func splitQuoted(s, desc string) (schema, name string) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", ""
	}
	inner := s[1 : len(s)-1]
	if unqualified(desc) {
		return "", inner
	}
	if schema, name, ok := strings.Cut(inner, "."); ok {
		return schema, name
	}
	return "", inner
}

// parseItem parses "3349 TABLE DATA customers" (ID DESC TAG).
func parseItem(l *Line, s string) bool {
	idText, rest, ok := strings.Cut(s, " ")
	if !ok {
		return false
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id <= 0 {
		return false
	}
	desc, tag, ok := splitDesc(rest, 1)
	if !ok {
		return false
	}
	l.EntryID, l.ObjectType, l.Name = id, desc, tag
	return true
}

// parseErrorEntry parses "223; 1259 16437 TABLE audit ea_owner" (ID;
// TABLEOID OID DESC TAG OWNER, no schema).
func parseErrorEntry(l *Line, s string) {
	idText, rest, ok := strings.Cut(s, "; ")
	if !ok {
		return
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id <= 0 {
		return
	}
	parts := strings.SplitN(rest, " ", 3)
	if len(parts) < 3 {
		return
	}
	desc, rest, ok := splitDesc(parts[2], 2)
	if !ok {
		return
	}
	if i := strings.LastIndexByte(rest, ' '); i >= 0 {
		rest = rest[:i] // the owner
	}
	l.EntryID, l.ObjectType, l.Name = id, desc, rest
}

// Bounds on a grouped message, so that an error quoting a huge statement
// cannot grow memory without limit.
const (
	maxGroupLines = 200
	maxGroupBytes = 64 << 10
)

// Parser turns a tool's stderr, fed line by line, into Lines: it groups
// multi-line messages, attaches TOC entries to errors, and reports the end
// of each table's data.
//
// Grouping: an error or warning is emitted when the next line with a tool
// prefix arrives (or at Close), with its continuation lines folded in, so
// it reaches emit one line late. Other lines are emitted at once.
//
// Errors: pg_restore names the entry an error is about in a line before
// it ("from TOC entry 223; 1259 16437 TABLE audit ea_owner", printed once
// per entry), and Parser copies that entry's ID, type and name into the
// error. In parallel runs the workers' lines interleave, so this is right
// only as long as the workers' lines do.
//
// End of table data: parallel runs print "finished item N TABLE DATA
// name" (KindTableDataFinished). Serial runs print nothing; a table's data
// is done when the tool moves on. A serial Parser therefore emits an
// inferred KindTableDataFinished for the open table before the next line
// that is not about it (another table, an object, a notice of progress) and
// at Close when the run completed. Errors and warnings in between are
// about the table: its finish line has Failed set.
type Parser struct {
	emit   func(Line)
	serial bool
	// tool is the prefix of the lines so far ("pg_restore").
	tool string

	pending   *Line
	lines     int
	dropped   int
	inCommand bool

	// entry is the TOC entry of the last "from TOC entry" line, until a
	// "while …:" line starts another phase.
	entry Line

	open       *Line
	openFailed bool
	failed     map[int]bool
}

// NewParser returns a Parser that calls emit for each Line, synchronously
// from Feed and Close. serial says the tool runs without -j (or with -j 1):
// only then may Parser infer the end of table data.
func NewParser(serial bool, emit func(Line)) *Parser {
	return &Parser{emit: emit, serial: serial, failed: make(map[int]bool)}
}

// Feed parses one line of output (without its line ending).
func (p *Parser) Feed(raw string) {
	l, groups := p.parse(raw)
	if l.Tool != "" {
		p.tool = l.Tool
	}
	if l.Kind == KindContinuation {
		if p.pending != nil {
			p.appendPending(raw)
			return
		}
		l.Kind = KindOther
	}
	p.flushPending()
	if p.keepsOpen(l, raw, groups) {
		return
	}

	p.closeOpen()
	switch l.Kind {
	case KindTableDataStarted:
		if p.serial {
			open := l
			p.open, p.openFailed = &open, false
		}
	case KindTableDataFinished:
		l.Failed = p.failed[l.EntryID]
	default:
		// Other lines only end the open table, as every line does.
	}
	p.emit(l)
}

// parse parses raw, with the tool's prefix added when it is the rest of a
// line whose prefix went to another line.
func (p *Parser) parse(raw string) (Line, bool) {
	l, groups := parseLine(raw)
	if l.Kind == KindContinuation && l.Tool == "" && p.tool != "" &&
		(p.pending == nil || strings.HasPrefix(raw, " from TOC entry ")) {
		// Parallel workers' lines can interleave mid-line, leaving the
		// rest of a line without its "pg_restore: " (testdata/
		// pg_restore-15-j2.txt, pg_restore-17-j2.txt). Read such a line as
		// if it had the prefix, if it then means something.
		rl, g := parseLine(p.tool + ": " + strings.TrimPrefix(raw, " "))
		if rl.Kind != KindOther && rl.Kind != KindContinuation || rl.EntryID != 0 {
			rl.Raw, rl.Tool = raw, ""
			return rl, g
		}
	}
	return l, groups
}

// keepsOpen handles the lines that do not end the open table's data
// (phases, entries named for the errors that follow, errors, warnings,
// notices, the tool's interruption), and reports whether l was one.
func (p *Parser) keepsOpen(l Line, raw string, groups bool) bool {
	switch {
	case l.Kind == KindOther && strings.Contains(raw, ": while ") && strings.HasSuffix(raw, ":"):
		// "while PROCESSING TOC:", "while INITIALIZING:": a new phase;
		// errors from here on are about no entry until one is named.
		p.entry = Line{}
		p.emit(l)
	case l.Kind == KindOther && l.EntryID != 0 && strings.Contains(raw, "from TOC entry "):
		p.entry = l
		p.emit(l)
	case l.Kind == KindError:
		p.noteError(&l)
		p.startPending(l)
	case l.Kind == KindWarning, groups:
		// A server notice: like a warning, it does not end the table.
		p.startPending(l)
	case l.Kind == KindOther && strings.HasSuffix(raw, "terminated by user"):
		// What pg_dump and pg_restore print when interrupted (SIGINT,
		// SIGTERM) before they exit: the open table is not done.
		p.open = nil
		p.emit(l)
	default:
		return false
	}
	return true
}

// noteError gives an error the entry last named, and records that entry,
// and the open table, as failed.
func (p *Parser) noteError(l *Line) {
	if l.EntryID == 0 && p.entry.EntryID != 0 {
		l.EntryID, l.ObjectType, l.Name = p.entry.EntryID, p.entry.ObjectType, p.entry.Name
	}
	if l.EntryID != 0 {
		p.failed[l.EntryID] = true
	}
	if p.open != nil {
		p.openFailed = true
	}
}

// Close emits what is still held back: a pending message, and, when
// completed is true, the end of the table whose data was loading. Pass
// completed = true only when the tool ran to its end: exit status 0, or
// pg_restore's "errors ignored on restore" line; a table open when a run
// is cut short is not finished.
func (p *Parser) Close(completed bool) {
	p.flushPending()
	if completed {
		p.closeOpen()
	}
	p.open = nil
}

// closeOpen emits the inferred end of the open table, if any.
func (p *Parser) closeOpen() {
	if p.open == nil {
		return
	}
	o := p.open
	p.open = nil
	p.emit(Line{
		Kind:       KindTableDataFinished,
		Tool:       o.Tool,
		ObjectType: o.ObjectType,
		Schema:     o.Schema,
		Name:       o.Name,
		Failed:     p.openFailed,
		Inferred:   true,
	})
}

func (p *Parser) startPending(l Line) {
	p.pending = &l
	p.lines, p.dropped, p.inCommand = 1, 0, false
}

func (p *Parser) appendPending(raw string) {
	l := p.pending
	if p.lines >= maxGroupLines || len(l.Raw)+len(raw) > maxGroupBytes {
		p.dropped++
		return
	}
	p.lines++
	l.Raw += "\n" + raw
	// pg_restore prints "Command was: …" bare, pg_dump as
	// "pg_dump: detail: Command was: …".
	text := raw
	if _, t, ok := cutTool(raw); ok {
		text = strings.TrimPrefix(t, "detail: ")
	}
	switch {
	case strings.HasPrefix(text, "Command was: "):
		p.inCommand = true
		l.Command = strings.TrimPrefix(text, "Command was: ")
	case p.inCommand:
		l.Command += "\n" + raw
	case strings.TrimSpace(text) == "":
	default:
		if l.Detail != "" {
			l.Detail += "\n"
		}
		l.Detail += text
	}
}

func (p *Parser) flushPending() {
	if p.pending == nil {
		return
	}
	l := *p.pending
	p.pending = nil
	l.Raw = strings.TrimRight(l.Raw, " \t\r\n")
	l.Command = strings.TrimRight(l.Command, " \t\r\n")
	if p.dropped > 0 {
		l.Raw += "\n… (" + strconv.Itoa(p.dropped) + " more lines)"
	}
	p.emit(l)
}
