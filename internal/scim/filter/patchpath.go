package filter

import "github.com/sagebridge/sagebridge/internal/scim/schema"

// PatchPath is the path of a PATCH operation (RFC 7644 §3.5.2):
// PATH = attrPath / valuePath [subAttr].
type PatchPath struct {
	// Attr is the attribute, with its URN, and with Sub when there is no
	// filter ("name.familyName").
	Attr schema.Path
	// Filter is the value filter, nil if none. Its paths are relative to
	// Attr, as in a filter's value path.
	Filter Expr
	// Sub is the sub-attribute after a filter:
	// emails[type eq "work"].value has Sub "value".
	Sub string
}

// ParsePatchPath parses a PATCH path. Errors are *schema.Error with scimType
// invalidPath, field "path" and a reason that starts with the byte offset of
// the problem.
func ParsePatchPath(s string) (PatchPath, error) {
	p, err := newParser(s)
	if err == nil {
		var pp PatchPath
		if pp, err = p.parsePatchPath(); err == nil {
			return pp, nil
		}
	}
	return PatchPath{}, schemaError(err, schema.InvalidPath, "path")
}

func (p *parser) parsePatchPath() (PatchPath, error) {
	var pp PatchPath
	if p.tok.kind != tokWord {
		return pp, errAt(p.tok.pos, "expected an attribute path, found %s", p.tok.describe())
	}
	attrTok := p.tok
	attr, err := p.parsePath()
	if err != nil {
		return pp, err
	}
	pp.Attr = attr
	if p.tok.kind == tokLBrack {
		vp, _, err := p.parseBrackets(attr, attrTok)
		if err != nil {
			return pp, err
		}
		pp.Filter = vp.Filter
		if p.subFollows() {
			if pp.Sub, err = p.parseSubAttr(); err != nil {
				return pp, err
			}
		}
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokWord && !p.tok.space && pp.Filter != nil {
			return pp, errAt(p.tok.pos, `expected ".subAttribute" or the end of the path after "]", found %s`, p.tok.describe())
		}
		return pp, p.unexpected("the end of the path")
	}
	return pp, nil
}

// String prints the path canonically; ParsePatchPath of the result gives
// an equal PatchPath.
func (p PatchPath) String() string {
	s := p.Attr.String()
	if p.Filter != nil {
		s += "[" + exprString(p.Filter) + "]"
		if p.Sub != "" {
			s += "." + p.Sub
		}
	}
	return s
}
