package filter

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// Parse parses a filter (RFC 7644 §3.4.2.2) that the caller has already
// URL-decoded. Besides the RFC grammar it accepts two forms Microsoft Entra
// ID sends or documents:
//
//   - emails[type eq "work"].value eq "x", a value path followed by a
//     sub-attribute comparison, parsed as
//     emails[type eq "work" and value eq "x"];
//   - unquoted string values (externalId eq jyoung), but only where nothing
//     else could be meant: the bare word must be followed by the end of the
//     filter, ")", "]" or "and"/"or".
//
// Errors are *schema.Error with scimType invalidFilter, field "filter" and a
// reason that starts with the byte offset of the problem.
func Parse(s string) (Expr, error) {
	p, err := newParser(s)
	if err == nil {
		var e Expr
		if e, err = p.parseTop(); err == nil {
			return e, nil
		}
	}
	return nil, schemaError(err, schema.InvalidFilter, "filter")
}

func schemaError(err error, t schema.ErrorType, field string) error {
	if se, ok := err.(*syntaxError); ok {
		return schema.Errorf(t, field, "%s", se.Error())
	}
	return schema.Errorf(t, field, "%s", err.Error())
}

type parser struct {
	lex   lexer
	tok   token
	depth int // current nesting of "(" and "["
	peak  int // deepest nesting reached; see valuePath
	inVP  bool
}

func newParser(s string) (*parser, error) {
	if len(s) > maxLen {
		return nil, errAt(maxLen, "longer than %d bytes", maxLen)
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, errAt(i, "invalid UTF-8")
	}
	p := &parser{lex: lexer{src: s}}
	return p, p.advance()
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isWord(w string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, w)
}

func (p *parser) parseTop() (Expr, error) {
	if p.tok.kind == tokEOF {
		return nil, errAt(p.tok.pos, "empty filter")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected(`"and", "or" or the end of the filter`)
	}
	return e, nil
}

func (p *parser) unexpected(want string) error {
	switch p.tok.kind {
	case tokRParen:
		return errAt(p.tok.pos, `")" without a matching "("`)
	case tokRBrack:
		return errAt(p.tok.pos, `"]" without a matching "["`)
	}
	return errAt(p.tok.pos, "expected %s, found %s", want, p.tok.describe())
}

// enter and leave bound the nesting depth so that a filter like "((((..."
// is rejected before it costs stack.
func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(pos, "nested more than %d levels deep", maxDepth)
	}
	p.peak = max(p.peak, p.depth)
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseOr: filter = andExpr *("or" andExpr). Loops rather than recursion
// keep long flat chains from deepening the stack, and make "or" and "and"
// left-associative.
func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	for err == nil && p.isWord("or") {
		var right Expr
		if err = p.advance(); err == nil {
			if right, err = p.parseAnd(); err == nil {
				left = &Logical{Op: "or", Left: left, Right: right}
			}
		}
	}
	return left, err
}

func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseTerm()
	for err == nil && p.isWord("and") {
		var right Expr
		if err = p.advance(); err == nil {
			if right, err = p.parseTerm(); err == nil {
				left = &Logical{Op: "and", Left: left, Right: right}
			}
		}
	}
	return left, err
}

// parseTerm: "(" filter ")" / "not" "(" filter ")" / attrExp / valuePath.
func (p *parser) parseTerm() (Expr, error) {
	switch {
	case p.tok.kind == tokLParen:
		return p.parseGroup()
	case p.isWord("not"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokLParen {
			return nil, errAt(p.tok.pos, `expected "(" after "not", found %s`, p.tok.describe())
		}
		x, err := p.parseGroup()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case p.tok.kind == tokWord && !p.isWord("and") && !p.isWord("or"):
		return p.parseAttrExp()
	}
	return nil, errAt(p.tok.pos, `expected an attribute path, "(" or "not", found %s`, p.tok.describe())
}

func (p *parser) parseGroup() (Expr, error) {
	open := p.tok.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokRParen {
		return nil, errAt(p.tok.pos, `expected ")" to close "(" at offset %d, found %s`, open, p.tok.describe())
	}
	p.leave()
	return e, p.advance()
}

// parsePath reads the current word as an attribute path.
func (p *parser) parsePath() (schema.Path, error) {
	t := p.tok
	path, err := schema.ParsePath(t.text)
	// ParsePath reads "name." as "name"; a trailing dot is a typo, not a path.
	if err != nil || strings.HasSuffix(t.text, ".") {
		return schema.Path{}, errAt(t.pos, "%s is not a valid attribute path", t.describe())
	}
	return path, p.advance()
}

func (p *parser) parseAttrExp() (Expr, error) {
	pathTok := p.tok
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tokLBrack {
		return p.parseValuePath(path, pathTok)
	}
	return p.parseComparison(path, pathTok)
}

// parseValuePath parses "[" valFilter "]" after attr, and Entra's
// "].sub op value" continuation.
func (p *parser) parseValuePath(attr schema.Path, attrTok token) (Expr, error) {
	vp, peak, err := p.parseBrackets(attr, attrTok)
	if err != nil {
		return nil, err
	}
	if !p.subFollows() {
		return vp, nil
	}
	subTok := p.tok
	sub, err := p.parseSubAttr()
	if err != nil {
		return nil, err
	}
	cmp, err := p.parseComparison(schema.Path{Attr: sub}, subTok)
	if err != nil {
		return nil, err
	}
	// Printed canonically, an "or" filter inside the brackets gains a pair
	// of parentheses ("a[(x or y) and sub eq v]"); refuse the input if that
	// would push it past the depth limit, so the printed form re-parses.
	if l, ok := vp.Filter.(*Logical); ok && l.Op == "or" && peak+1 > maxDepth {
		return nil, errAt(subTok.pos, "nested more than %d levels deep", maxDepth)
	}
	vp.Filter = &Logical{Op: "and", Left: vp.Filter, Right: cmp}
	return vp, nil
}

// parseBrackets parses "[" valFilter "]"; the current token is "[". peak is
// the deepest nesting reached inside the brackets.
func (p *parser) parseBrackets(attr schema.Path, attrTok token) (vp *ValuePath, peak int, err error) {
	open := p.tok.pos
	if p.inVP {
		return nil, 0, errAt(open, "value paths cannot be nested")
	}
	if attr.Sub != "" {
		return nil, 0, errAt(attrTok.pos, "a value filter applies to an attribute, not to the sub-attribute %s", attrTok.describe())
	}
	if err := p.enter(open); err != nil {
		return nil, 0, err
	}
	outerPeak := p.peak
	p.peak = p.depth
	p.inVP = true
	if err := p.advance(); err != nil {
		return nil, 0, err
	}
	if p.tok.kind == tokRBrack {
		return nil, 0, errAt(p.tok.pos, "empty value filter")
	}
	inner, err := p.parseOr()
	if err != nil {
		return nil, 0, err
	}
	if p.tok.kind != tokRBrack {
		return nil, 0, errAt(p.tok.pos, `expected "]" to close "[" at offset %d, found %s`, open, p.tok.describe())
	}
	peak = p.peak
	p.inVP = false
	p.peak = max(outerPeak, peak)
	p.leave()
	return &ValuePath{Attr: attr, Filter: inner}, peak, p.advance()
}

// subFollows reports whether ".sub" follows "]" directly.
func (p *parser) subFollows() bool {
	return p.tok.kind == tokWord && !p.tok.space && strings.HasPrefix(p.tok.text, ".")
}

// parseSubAttr reads ".name" after a value filter.
func (p *parser) parseSubAttr() (string, error) {
	t := p.tok
	name := t.text[1:]
	sp, err := schema.ParsePath(name)
	if err != nil || sp.URN != "" || sp.Sub != "" || strings.HasSuffix(name, ".") {
		return "", errAt(t.pos, "%s is not a valid sub-attribute", t.describe())
	}
	return sp.Attr, p.advance()
}

// parseComparison parses "op value" or "pr" after path.
func (p *parser) parseComparison(path schema.Path, pathTok token) (Expr, error) {
	if p.tok.kind != tokWord {
		return nil, errAt(p.tok.pos, "expected an operator after %s, found %s", pathTok.describe(), p.tok.describe())
	}
	op, ok := ops[strings.ToLower(p.tok.text)]
	if !ok {
		return nil, errAt(p.tok.pos, "unknown operator %s (want eq, ne, co, sw, ew, gt, ge, lt, le or pr)", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if op == Pr {
		return &Compare{Path: path, Op: Pr}, nil
	}
	v, err := p.parseValue(op)
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: v}, nil
}

// parseValue: compValue = false / null / true / number / string, plus
// Entra's unquoted strings.
func (p *parser) parseValue(op Op) (any, error) {
	t := p.tok
	switch t.kind {
	case tokString:
		return t.text, p.advance()
	case tokWord:
	default:
		return nil, errAt(t.pos, "expected a value after %s, found %s", op, t.describe())
	}
	switch strings.ToLower(t.text) {
	case "true":
		return true, p.advance()
	case "false":
		return false, p.advance()
	case "null":
		return nil, p.advance()
	case "and", "or", "not":
		return nil, errAt(t.pos, "expected a value after %s, found %s", op, t.describe())
	}
	if isNumber(t.text) {
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, errAt(t.pos, "number %s is out of range", t.describe())
		}
		return f, p.advance()
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch {
	case p.tok.kind == tokEOF, p.tok.kind == tokRParen, p.tok.kind == tokRBrack,
		p.tok.space && (p.isWord("and") || p.isWord("or")):
		return t.text, nil
	}
	return nil, errAt(t.pos, "string values must be in double quotes: %s", t.describe())
}
