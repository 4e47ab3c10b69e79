package pgtools

import "strings"

// tokKind is the kind of an SQL token, as far as Translate needs to know.
type tokKind int

const (
	tokWord   tokKind = iota // keyword or unquoted identifier
	tokQuoted                // "quoted identifier"
	tokString                // 'literal', E'literal', $tag$body$tag$
	tokNumber
	tokPunct // one character of punctuation or an operator
)

// token is a span of the SQL text.
type token struct {
	kind       tokKind
	start, end int
}

// ident reports whether the token can name a column.
func (t token) ident() bool { return t.kind == tokWord || t.kind == tokQuoted }

// lex splits sql into tokens, leaving out whitespace and comments. It never
// fails: an unterminated literal or comment runs to the end of the text.
func lex(sql string) []token {
	var toks []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			i = lineEnd(sql, i)
		case strings.HasPrefix(sql[i:], "/*"):
			i = commentEnd(sql, i)
		case c == '\'':
			end := quoteEnd(sql, i, '\'', false)
			toks = append(toks, token{tokString, i, end})
			i = end
		case (c == 'E' || c == 'e') && i+1 < len(sql) && sql[i+1] == '\'':
			end := quoteEnd(sql, i+1, '\'', true)
			toks = append(toks, token{tokString, i, end})
			i = end
		case c == '"':
			end := quoteEnd(sql, i, '"', false)
			toks = append(toks, token{tokQuoted, i, end})
			i = end
		case c == '$' && dollarTag(sql, i) != "":
			end := dollarEnd(sql, i)
			toks = append(toks, token{tokString, i, end})
			i = end
		case isIdentStart(c):
			end := i + 1
			for end < len(sql) && isIdentPart(sql[end]) {
				end++
			}
			toks = append(toks, token{tokWord, i, end})
			i = end
		case c >= '0' && c <= '9':
			end := i + 1
			for end < len(sql) && (isIdentPart(sql[end]) || sql[end] == '.') {
				end++
			}
			toks = append(toks, token{tokNumber, i, end})
			i = end
		default:
			toks = append(toks, token{tokPunct, i, i + 1})
			i++
		}
	}
	return toks
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

func lineEnd(sql string, i int) int {
	if n := strings.IndexByte(sql[i:], '\n'); n >= 0 {
		return i + n + 1
	}
	return len(sql)
}

// commentEnd is the end of the /* comment */ at i; they nest.
func commentEnd(sql string, i int) int {
	depth := 0
	for i < len(sql) {
		switch {
		case strings.HasPrefix(sql[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(sql[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(sql)
}

// quoteEnd is the end of the literal opened by q at i: a doubled q is
// part of it, and with backslashes a backslash escapes the next byte.
func quoteEnd(sql string, i int, q byte, backslashes bool) int {
	for k := i + 1; k < len(sql); k++ {
		switch {
		case backslashes && sql[k] == '\\':
			k++
		case sql[k] == q:
			if k+1 < len(sql) && sql[k+1] == q {
				k++
				continue
			}
			return k + 1
		}
	}
	return len(sql)
}

// dollarTag is the $tag$ opening a dollar-quoted string at i, or "".
func dollarTag(sql string, i int) string {
	for k := i + 1; k < len(sql); k++ {
		c := sql[k]
		switch {
		case c == '$':
			return sql[i : k+1]
		case !(isIdentStart(c) || k > i+1 && c >= '0' && c <= '9'):
			return ""
		}
	}
	return ""
}

func dollarEnd(sql string, i int) int {
	tag := dollarTag(sql, i)
	if n := strings.Index(sql[i+len(tag):], tag); n >= 0 {
		return i + len(tag) + n + len(tag)
	}
	return len(sql)
}
