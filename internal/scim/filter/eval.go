package filter

import (
	"cmp"
	"encoding/json"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// Match reports whether doc, a resource with canonical attribute names,
// satisfies the filter. A filter from CompileElement matches when any
// element of its attribute does.
func (f *Filter) Match(doc map[string]any) bool {
	if f == nil || f.root == nil {
		return false
	}
	return f.root.eval(doc)
}

// MatchElement reports whether one element of the attribute given to
// CompileElement satisfies the filter. A filter from Compile describes
// resources, not elements, and matches no element.
func (f *Filter) MatchElement(elem map[string]any) bool {
	if f == nil || f.elem == nil {
		return false
	}
	return f.elem.eval(elem)
}

// node is a compiled expression. eval gets the resource, or the element
// inside a value filter.
type node interface {
	eval(doc map[string]any) bool
	plan(indexed map[string]bool) ([]Lookup, bool)
}

type logicalNode struct {
	and         bool
	left, right node
}

func (n *logicalNode) eval(doc map[string]any) bool {
	if n.and {
		return n.left.eval(doc) && n.right.eval(doc)
	}
	return n.left.eval(doc) || n.right.eval(doc)
}

type notNode struct{ x node }

func (n *notNode) eval(doc map[string]any) bool { return !n.x.eval(doc) }

// vpNode applies inner to each element of a complex attribute: all of the
// inner filter's conditions must hold for the same element.
type vpNode struct {
	ext   string
	attr  string
	inner node
}

func (n *vpNode) eval(doc map[string]any) bool {
	switch v := container(doc, n.ext)[n.attr].(type) {
	case []any:
		for _, el := range v {
			if m, ok := el.(map[string]any); ok && n.inner.eval(m) {
				return true
			}
		}
	case map[string]any:
		return n.inner.eval(v)
	}
	return false
}

func container(doc map[string]any, ext string) map[string]any {
	if ext == "" {
		return doc
	}
	m, _ := doc[ext].(map[string]any)
	return m // indexing a nil map is safe
}

type operandKind int

const (
	kMismatch operandKind = iota // the operand cannot equal any value of the attribute
	kNull
	kStr
	kTime
	kNum
	kBool
)

// cmpNode is one comparison. The values compared are doc[ext][attr], and
// when sub is set, the sub-attribute of it or of each of its elements.
type cmpNode struct {
	ext, attr, sub string
	key            string // canonical path for Plan
	op             Op
	typ            schema.Type
	caseExact      bool

	kind  operandKind
	str   string // the literal as written
	lower string // str folded, for case-insensitive attributes
	t     time.Time
	num   float64
	b     bool
}

func (n *cmpNode) eval(doc map[string]any) bool {
	switch n.op {
	case Pr:
		return n.any(doc, present)
	case Eq:
		if n.kind == kNull {
			return !n.any(doc, present)
		}
		return n.any(doc, (*cmpNode).equal)
	case Ne:
		// ne is the complement of eq, so a missing attribute, or a
		// multi-valued one none of whose values equals the operand, is "ne".
		if n.kind == kNull {
			return n.any(doc, present)
		}
		return !n.any(doc, (*cmpNode).equal)
	}
	return n.any(doc, (*cmpNode).test)
}

// any reports whether fn holds for any of the compared values; multi-valued
// attributes match when one value does (RFC 7644 §3.4.2.2).
func (n *cmpNode) any(doc map[string]any, fn func(*cmpNode, any) bool) bool {
	v, ok := container(doc, n.ext)[n.attr]
	if !ok {
		return false
	}
	if list, ok := v.([]any); ok {
		for _, el := range list {
			if n.anySub(el, fn) {
				return true
			}
		}
		return false
	}
	return n.anySub(v, fn)
}

func (n *cmpNode) anySub(v any, fn func(*cmpNode, any) bool) bool {
	if n.sub != "" {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[n.sub]; !ok {
			return false
		}
		if list, ok := v.([]any); ok {
			for _, el := range list {
				if fn(n, el) {
					return true
				}
			}
			return false
		}
	}
	return fn(n, v)
}

// present is pr: assigned and not empty (RFC 7643 §2.5).
func present(_ *cmpNode, v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		for _, el := range x {
			if present(nil, el) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, el := range x {
			if present(nil, el) {
				return true
			}
		}
		return false
	}
	return true
}

func (n *cmpNode) equal(v any) bool {
	switch n.kind {
	case kStr:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if n.caseExact {
			return s == n.str
		}
		return lowerEqual(s, n.lower)
	case kBool:
		b, ok := v.(bool)
		return ok && b == n.b
	case kTime, kNum:
		c, ok := n.compareTo(v)
		return ok && c == 0
	}
	return false
}

// lowerEqual reports whether strings.ToLower(s) == lower without
// allocating for ASCII s. Case-insensitive comparison is ToLower, not
// strings.EqualFold, because that is how the store folds its indexes
// (boltstore's fold): with EqualFold, "ſ" would match "s" here while the
// userName index never finds it, and Plan would miss documents.
func lowerEqual(s, lower string) bool {
	if len(s) != len(lower) {
		// ToLower can change the byte length only of non-ASCII text.
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return strings.ToLower(s) == lower
			}
		}
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s) == lower
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// test applies co, sw, ew, gt, ge, lt and le.
func (n *cmpNode) test(v any) bool {
	if n.kind == kStr {
		s, ok := v.(string)
		if !ok {
			return false
		}
		operand := n.str
		if !n.caseExact {
			s, operand = strings.ToLower(s), n.lower
		}
		switch n.op {
		case Co:
			return strings.Contains(s, operand)
		case Sw:
			return strings.HasPrefix(s, operand)
		case Ew:
			return strings.HasSuffix(s, operand)
		}
		return ordered(n.op, strings.Compare(s, operand))
	}
	c, ok := n.compareTo(v)
	return ok && ordered(n.op, c)
}

func ordered(op Op, c int) bool {
	switch op {
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

// compareTo orders a document value against a dateTime or numeric operand;
// ok is false when v is not of a comparable type.
func (n *cmpNode) compareTo(v any) (int, bool) {
	switch n.kind {
	case kTime:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return t.Compare(n.t), true
	case kNum:
		if i, ok := v.(int64); ok {
			return compareInt(i, n.num), true
		}
		f, ok := toFloat(v)
		if !ok || math.IsNaN(f) {
			return 0, false
		}
		return cmp.Compare(f, n.num), true
	}
	return 0, false
}

// compareInt compares exactly where converting i to float64 would round
// (integers beyond 2^53).
func compareInt(i int64, f float64) int {
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return cmp.Compare(i, int64(f))
	}
	return cmp.Compare(float64(i), f)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
