package pgtools

import "strings"

// Section is the part of an archive a TOC entry belongs to, as pg_restore's
// --section option sees it.
type Section int

// Sections. SectionNone is the zero value: the entry's description does not
// place it (COMMENT, ACL, SECURITY LABEL), or it was not parsed.
const (
	SectionNone Section = iota
	SectionPreData
	SectionData
	SectionPostData
)

// String returns the name pg_restore --section uses ("pre-data", "data",
// "post-data"), or "none".
func (s Section) String() string {
	switch s {
	case SectionPreData:
		return "pre-data"
	case SectionData:
		return "data"
	case SectionPostData:
		return "post-data"
	default:
		// SectionNone, and any value that is not a section.
		return "none"
	}
}

// Descriptions of TOC entries that are more than one word, longest first so
// that "MATERIALIZED VIEW DATA" wins over "MATERIALIZED VIEW". Taken from
// pg_dump's ArchiveEntry calls (versions 12 to 18). Single-word
// descriptions need no list: the first word is the description.
var multiWordDescs = [...]string{
	"PUBLICATION TABLES IN SCHEMA",
	"TEXT SEARCH CONFIGURATION",
	"MATERIALIZED VIEW DATA",
	"TEXT SEARCH DICTIONARY",
	"FOREIGN DATA WRAPPER",
	"TEXT SEARCH TEMPLATE",
	"DATABASE PROPERTIES",
	"PROCEDURAL LANGUAGE",
	"TEXT SEARCH PARSER",
	"SUBSCRIPTION TABLE",
	"SEQUENCE OWNED BY",
	"PUBLICATION TABLE",
	"MATERIALIZED VIEW",
	"CHECK CONSTRAINT",
	"STATISTICS DATA",
	"OPERATOR FAMILY",
	"SECURITY LABEL",
	"OPERATOR CLASS",
	"FOREIGN SERVER",
	"BLOB METADATA",
	"FOREIGN TABLE",
	"EVENT TRIGGER",
	"FK CONSTRAINT",
	"ACCESS METHOD",
	"INDEX ATTACH",
	"ROW SECURITY",
	"SEQUENCE SET",
	"TABLE ATTACH",
	"LARGE OBJECT",
	"USER MAPPING",
	"DEFAULT ACL",
	"SHELL TYPE",
	"TABLE DATA",
}

// splitDesc splits s, which starts with a TOC entry description followed by
// a space, into the description and the rest. minFields is how many
// space-separated fields the rest must have at least (schema, name, owner:
// 3); a longer description that leaves too few is passed over, so that a
// TABLE in a schema called "DATA" is not taken for TABLE DATA. ok is false
// when s has no space.
func splitDesc(s string, minFields int) (desc, rest string, ok bool) {
	for _, d := range multiWordDescs {
		r, found := strings.CutPrefix(s, d+" ")
		if found && strings.Count(r, " ")+1 >= minFields {
			return d, r, true
		}
	}
	desc, rest, ok = strings.Cut(s, " ")
	return desc, rest, ok
}

// descSection returns the section pg_dump assigns to entries with
// description desc. Entries pg_dump puts in no section (COMMENT, ACL,
// SECURITY LABEL) get SectionNone: in an archive they belong to the section
// of the entry before them, which is how pg_restore --section treats them.
// Unknown descriptions (a newer pg_dump's) get SectionNone too: pg_dump
// writes entries in section order, so the entry before is the best guess.
//
// Checked against `pg_restore --list --section` of pg_dump 15 and 17
// archives (testdata/list-*-*.txt). Large objects moved in 17: pg_dump 15's
// "BLOB" entries are pre-data, pg_dump 17's "BLOB METADATA" entries are
// data.
func descSection(desc string) Section {
	switch desc {
	case "SCHEMA", "EXTENSION", "TYPE", "SHELL TYPE", "DOMAIN", "FUNCTION", "PROCEDURE",
		"AGGREGATE", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "COLLATION",
		"CONVERSION", "TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", "SEQUENCE OWNED BY",
		"DEFAULT", "TABLE ATTACH", "FOREIGN TABLE", "FOREIGN DATA WRAPPER", "SERVER",
		"FOREIGN SERVER", "USER MAPPING", "PROCEDURAL LANGUAGE", "CAST", "TRANSFORM",
		"ACCESS METHOD", "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE",
		"TEXT SEARCH DICTIONARY", "TEXT SEARCH CONFIGURATION", "ENCODING", "STDSTRINGS",
		"SEARCHPATH", "DATABASE", "DATABASE PROPERTIES", "BLOB":
		return SectionPreData
	case "TABLE DATA", "SEQUENCE SET", "BLOBS", "BLOB METADATA", "LARGE OBJECT":
		return SectionData
	case "INDEX", "INDEX ATTACH", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT",
		"TRIGGER", "EVENT TRIGGER", "RULE", "POLICY", "ROW SECURITY",
		"MATERIALIZED VIEW DATA", "STATISTICS", "DEFAULT ACL",
		"PUBLICATION", "PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA",
		"SUBSCRIPTION", "SUBSCRIPTION TABLE":
		return SectionPostData
	}
	// COMMENT, ACL, SECURITY LABEL; STATISTICS DATA, which pg_dump 18 puts
	// in data for tables and in post-data for indexes; and unknown ones.
	return SectionNone
}

// unqualified reports whether entries with description desc have no schema,
// so that pg_restore prints their tag without a "schema." prefix and a dot
// in it is part of the name.
func unqualified(desc string) bool {
	switch desc {
	case "SCHEMA", "DATABASE", "DATABASE PROPERTIES", "ENCODING", "STDSTRINGS", "SEARCHPATH",
		"EXTENSION", "PROCEDURAL LANGUAGE", "CAST", "ACCESS METHOD",
		"FOREIGN DATA WRAPPER", "SERVER", "FOREIGN SERVER", "USER MAPPING",
		"EVENT TRIGGER", "PUBLICATION", "SUBSCRIPTION",
		"BLOB", "BLOBS", "BLOB METADATA", "LARGE OBJECT":
		return true
	}
	return false
}
