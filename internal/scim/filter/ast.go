// Package filter implements SCIM filters (RFC 7644 §3.4.2.2): parsing,
// canonical printing, evaluation against documents and planning index
// lookups, plus the PATCH path grammar (RFC 7644 §3.5.2) that embeds them.
//
// Parse produces pointer nodes (*Compare, *Logical, *Not, *ValuePath). The
// node methods have value receivers so that callers may also build and
// switch on plain values; Compile accepts both.
package filter

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// Op is a comparison operator.
type Op string

const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
	Pr Op = "pr"
)

// ops maps the lower-case spelling to the operator; the parser folds case
// before looking up because RFC 7644 makes operators case-insensitive.
var ops = map[string]Op{
	"eq": Eq, "ne": Ne, "co": Co, "sw": Sw, "ew": Ew,
	"gt": Gt, "ge": Ge, "lt": Lt, "le": Le, "pr": Pr,
}

// Expr is a filter expression. String prints the canonical filter text,
// which parses back to an equal tree.
type Expr interface {
	String() string
	isExpr()
}

// Compare is "attrPath op value", or "attrPath pr". Value is a string, bool,
// float64 or nil (the literal null); it is nil for pr.
type Compare struct {
	Path  schema.Path
	Op    Op
	Value any
}

// Logical joins two filters with "and" or "or" (always lower case when
// produced by Parse).
type Logical struct {
	Op          string
	Left, Right Expr
}

// Not is "not (X)".
type Not struct {
	X Expr
}

// ValuePath is "attr[filter]": Filter applies to each element of Attr, and
// the paths inside it name sub-attributes relative to Attr (in Path.Attr).
// Attr never has a Sub.
type ValuePath struct {
	Attr   schema.Path
	Filter Expr
}

func (Compare) isExpr()   {}
func (Logical) isExpr()   {}
func (Not) isExpr()       {}
func (ValuePath) isExpr() {}

func (c Compare) String() string {
	if c.Op == Pr {
		return c.Path.String() + " pr"
	}
	return c.Path.String() + " " + string(c.Op) + " " + formatValue(c.Value)
}

func (l Logical) String() string {
	op := strings.ToLower(l.Op)
	left := exprString(l.Left)
	right := exprString(l.Right)
	// Parse is left-associative and binds "and" tighter than "or", so a
	// child needs parentheses when it is an "or" under an "and", or when it
	// is a right child of the same operator (a and (b and c) is a different
	// tree from a and b and c, and must print differently to re-parse equal).
	if needParens(op, l.Left, false) {
		left = "(" + left + ")"
	}
	if needParens(op, l.Right, true) {
		right = "(" + right + ")"
	}
	return left + " " + op + " " + right
}

func needParens(parent string, child Expr, right bool) bool {
	var op string
	switch c := child.(type) {
	case *Logical:
		if c == nil {
			return false
		}
		op = strings.ToLower(c.Op)
	case Logical:
		op = strings.ToLower(c.Op)
	default:
		return false
	}
	if parent == "and" && op == "or" {
		return true
	}
	return right && op == parent
}

func (n Not) String() string { return "not (" + exprString(n.X) + ")" }

func (v ValuePath) String() string {
	return v.Attr.String() + "[" + exprString(v.Filter) + "]"
}

// exprString tolerates nil children in hand-built trees instead of panicking.
func exprString(e Expr) string {
	switch x := e.(type) {
	case nil:
		return ""
	case *Compare:
		if x == nil {
			return ""
		}
	case *Logical:
		if x == nil {
			return ""
		}
	case *Not:
		if x == nil {
			return ""
		}
	case *ValuePath:
		if x == nil {
			return ""
		}
	}
	return e.String()
}

// formatValue prints a comparison value as a JSON literal.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case string:
		return quote(x)
	case float64:
		return formatNumber(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return "null"
}

// formatNumber follows encoding/json: plain decimal notation unless the
// magnitude is tiny or huge, so "5" prints as 5 and not 5e+00. Both forms
// are JSON numbers and parse back to the same float64.
func formatNumber(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "null" // not representable; Parse never produces these
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.FormatFloat(f, format, -1, 64)
}

// quote produces a JSON string literal. Non-ASCII text is written as is
// (Parse only accepts valid UTF-8); quotes, backslashes and control
// characters are escaped.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&0xf])
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`) // invalid UTF-8 cannot be written in JSON
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

const hexDigits = "0123456789abcdef"
