package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits that keep adversarial filters cheap: the parser recurses once per
// nesting level, and every later pass (Compile, String, Match) walks the
// tree it built.
const (
	maxLen   = 4096
	maxDepth = 64
)

type tokKind int

const (
	tokEOF    tokKind = iota
	tokWord           // attribute path, operator, keyword, number or unquoted value
	tokString         // JSON string literal; text is the decoded value
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
)

type token struct {
	kind  tokKind
	pos   int    // byte offset of the first character
	end   int    // byte offset just past the token
	text  string // the word as written, or the decoded string
	space bool   // whitespace separates this token from the previous one
}

// describe names a token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + truncate(quote(t.text))
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokLBrack:
		return `"["`
	case tokRBrack:
		return `"]"`
	}
	return strconv.Quote(truncate(t.text))
}

func truncate(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// syntaxError is a problem at a byte offset; Parse and ParsePatchPath turn
// it into a *schema.Error of their own scimType.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("at offset %d: %s", e.pos, e.msg) }

func errAt(pos int, format string, args ...any) *syntaxError {
	return &syntaxError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isDelim ends a word. Everything else that is not whitespace belongs to a
// word, so URNs ("urn:...:2.0:User:userName"), dotted paths, numbers and
// unquoted values such as e-mail addresses each lex as one word, and the
// parser decides what a word means from where it stands.
func isDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"'
}

// next returns the token at the current position.
func (l *lexer) next() (token, error) {
	start := l.pos
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	t := token{pos: l.pos, space: l.pos > start}
	if l.pos >= len(l.src) {
		t.kind, t.end = tokEOF, l.pos
		return t, nil
	}
	switch c := l.src[l.pos]; c {
	case '(':
		t.kind = tokLParen
		l.pos++
	case ')':
		t.kind = tokRParen
		l.pos++
	case '[':
		t.kind = tokLBrack
		l.pos++
	case ']':
		t.kind = tokRBrack
		l.pos++
	case '"':
		s, err := l.str()
		if err != nil {
			return t, err
		}
		t.kind, t.text = tokString, s
	default:
		for l.pos < len(l.src) && !isDelim(l.src[l.pos]) {
			if c := l.src[l.pos]; c < 0x20 || c == 0x7f {
				return t, errAt(l.pos, "control character %#02x outside a string", c)
			}
			l.pos++
		}
		t.kind, t.text = tokWord, l.src[t.pos:l.pos]
	}
	t.end = l.pos
	return t, nil
}

// str decodes a JSON string literal (RFC 8259 §7) starting at the opening
// quote.
func (l *lexer) str() (string, error) {
	open := l.pos
	l.pos++
	var b strings.Builder
	for {
		if l.pos >= len(l.src) {
			return "", errAt(open, "unterminated string")
		}
		c := l.src[l.pos]
		switch {
		case c == '"':
			l.pos++
			return b.String(), nil
		case c == '\\':
			if err := l.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", errAt(l.pos, "control character %#02x in a string must be escaped", c)
		default:
			// Copy a run of plain bytes at once; the whole input was
			// checked for valid UTF-8 before lexing.
			i := l.pos
			for i < len(l.src) && l.src[i] != '"' && l.src[i] != '\\' && l.src[i] >= 0x20 {
				i++
			}
			b.WriteString(l.src[l.pos:i])
			l.pos = i
		}
	}
}

func (l *lexer) escape(b *strings.Builder) error {
	at := l.pos
	if l.pos+1 >= len(l.src) {
		return errAt(at, "unterminated escape sequence")
	}
	c := l.src[l.pos+1]
	l.pos += 2
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, ok := l.hex4()
		if !ok {
			return errAt(at, `\u must be followed by four hex digits`)
		}
		if utf16.IsSurrogate(r) {
			// A high surrogate followed by an escaped low one is one
			// character; a lone surrogate becomes U+FFFD, as in
			// encoding/json, so the value stays valid UTF-8.
			save := l.pos
			if l.pos+1 < len(l.src) && l.src[l.pos] == '\\' && l.src[l.pos+1] == 'u' {
				l.pos += 2
				if r2, ok := l.hex4(); ok {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b.WriteRune(dec)
						return nil
					}
				}
			}
			l.pos = save
			r = utf8.RuneError
		}
		b.WriteRune(r)
	default:
		return errAt(at, "invalid escape sequence \\%c", c)
	}
	return nil
}

func (l *lexer) hex4() (rune, bool) {
	if l.pos+4 > len(l.src) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(l.src[l.pos : l.pos+4]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	l.pos += 4
	return r, true
}

// isNumber reports whether w matches the JSON number grammar (RFC 8259 §6):
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func isNumber(w string) bool {
	i := 0
	if i < len(w) && w[i] == '-' {
		i++
	}
	switch {
	case i < len(w) && w[i] == '0':
		i++
	case i < len(w) && w[i] >= '1' && w[i] <= '9':
		i = digits(w, i)
	default:
		return false
	}
	if i < len(w) && w[i] == '.' {
		j := digits(w, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(w) && (w[i] == 'e' || w[i] == 'E') {
		i++
		if i < len(w) && (w[i] == '+' || w[i] == '-') {
			i++
		}
		j := digits(w, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(w)
}

func digits(w string, i int) int {
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	return i
}
