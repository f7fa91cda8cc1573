package filter

import (
	"strings"
	"time"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// Filter is a filter compiled against a resource type: every path resolved,
// every operator checked against the attribute's type, every operand
// converted once so that Match does no parsing.
type Filter struct {
	expr Expr
	root node // evaluated against a resource
	elem node // evaluated against one element; nil for resource filters
}

// Expr returns the filter's expression as given to Compile.
func (f *Filter) Expr() Expr {
	if f == nil {
		return nil
	}
	return f.expr
}

// Compile resolves e against rt. Unknown attributes, operators that make no
// sense for the attribute's type (gt on a boolean, co on a number, any
// comparison but pr on a complex attribute without a "value"
// sub-attribute) and malformed dateTimes are *schema.Error invalidFilter.
func Compile(rt *schema.ResourceType, e Expr) (*Filter, error) {
	if rt == nil {
		return nil, filterError("no resource type to compile against")
	}
	c := &compiler{rt: rt}
	root, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return &Filter{expr: e, root: root}, nil
}

// CompileElement compiles a filter that applies to the elements of the
// multi-valued complex attribute ref.Attr (the inside of a value path, as in
// PATCH "emails[type eq \"work\"]"). Paths in e name sub-attributes of
// ref.Attr: "type", or spelled out, "emails.type". Match on the result
// reports whether any element of the attribute matches.
func CompileElement(rt *schema.ResourceType, ref schema.Ref, e Expr) (*Filter, error) {
	if rt == nil {
		return nil, filterError("no resource type to compile against")
	}
	if ref.Attr == nil || ref.Attr.Type != schema.Complex || ref.Sub != nil {
		return nil, filterError("a value filter needs a complex attribute")
	}
	vp, err := (&compiler{rt: rt}).valuePath(ref, e)
	if err != nil {
		return nil, err
	}
	return &Filter{expr: e, root: vp, elem: vp.inner}, nil
}

func filterError(format string, args ...any) *schema.Error {
	return schema.Errorf(schema.InvalidFilter, "filter", format, args...)
}

type compiler struct {
	rt *schema.ResourceType
	// elem is the attribute whose elements a value filter tests; nil at
	// resource level. Paths inside a value filter are its sub-attributes.
	elem    schema.Ref
	elemKey string
	depth   int
}

// maxTreeDepth bounds recursion over hand-built trees. A parsed tree is
// always shallower: every level costs at least one byte of the input.
const maxTreeDepth = maxLen

func (c *compiler) compile(e Expr) (node, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxTreeDepth {
		return nil, filterError("nested more than %d levels deep", maxTreeDepth)
	}
	switch x := e.(type) {
	case *Compare:
		if x != nil {
			return c.compare(*x)
		}
	case Compare:
		return c.compare(x)
	case *Logical:
		if x != nil {
			return c.logical(*x)
		}
	case Logical:
		return c.logical(x)
	case *Not:
		if x != nil {
			return c.not(*x)
		}
	case Not:
		return c.not(x)
	case *ValuePath:
		if x != nil {
			return c.resourceValuePath(*x)
		}
	case ValuePath:
		return c.resourceValuePath(x)
	case nil:
	default:
		return nil, filterError("unsupported expression %T", e)
	}
	return nil, filterError("empty filter")
}

func (c *compiler) logical(l Logical) (node, error) {
	var and bool
	switch strings.ToLower(l.Op) {
	case "and":
		and = true
	case "or":
	default:
		return nil, filterError("unknown logical operator %q", l.Op)
	}
	left, err := c.compile(l.Left)
	if err != nil {
		return nil, err
	}
	right, err := c.compile(l.Right)
	if err != nil {
		return nil, err
	}
	return &logicalNode{and: and, left: left, right: right}, nil
}

func (c *compiler) not(n Not) (node, error) {
	x, err := c.compile(n.X)
	if err != nil {
		return nil, err
	}
	return &notNode{x: x}, nil
}

func (c *compiler) resourceValuePath(v ValuePath) (node, error) {
	if c.elem.Attr != nil {
		return nil, filterError("value paths cannot be nested (%s inside %s)", v.Attr, c.elem.Attr.Name)
	}
	if v.Attr.Sub != "" {
		return nil, filterError("a value filter applies to an attribute, not to the sub-attribute %s", v.Attr)
	}
	ref, err := c.resolve(v.Attr)
	if err != nil {
		return nil, err
	}
	if ref.Attr.Type != schema.Complex {
		return nil, filterError("%s is %s; value filters apply to complex attributes", v.Attr, ref.Attr.Type)
	}
	vp, err := c.valuePath(ref, v.Filter)
	if err != nil {
		return nil, err // not vp: a nil *vpNode in a node would not be nil
	}
	return vp, nil
}

func (c *compiler) valuePath(ref schema.Ref, e Expr) (*vpNode, error) {
	key := indexKey(c.rt, ref.Schema, ref.Attr, nil)
	inner := &compiler{rt: c.rt, elem: ref, elemKey: key, depth: c.depth}
	x, err := inner.compile(e)
	if err != nil {
		return nil, err
	}
	return &vpNode{ext: extKey(c.rt, ref.Schema), attr: ref.Attr.Name, inner: x}, nil
}

// resolve finds a resource-level path.
func (c *compiler) resolve(p schema.Path) (schema.Ref, error) {
	ref, err := c.rt.Resolve(p)
	if err != nil {
		reason := err.Error()
		if se, ok := err.(*schema.Error); ok {
			reason = se.Reason
		}
		return ref, filterError("attribute %q: %s", p.String(), reason)
	}
	if ref.Attr == nil {
		return ref, filterError("%q names a schema extension, not an attribute", p.String())
	}
	return ref, nil
}

// elemSub finds the sub-attribute a path inside a value filter names:
// "type" relative to the element or, spelled out, "emails.type".
func (c *compiler) elemSub(p schema.Path) *schema.Attribute {
	a := c.elem.Attr
	switch {
	case p.URN == "" && p.Sub == "":
		return a.Sub(p.Attr)
	case p.Sub != "" && strings.EqualFold(p.Attr, a.Name) &&
		(p.URN == "" || strings.EqualFold(p.URN, c.elem.Schema.ID)):
		return a.Sub(p.Sub)
	}
	return nil
}

func (c *compiler) compare(x Compare) (node, error) {
	n := &cmpNode{op: x.Op}
	var target *schema.Attribute
	if c.elem.Attr != nil {
		if target = c.elemSub(x.Path); target == nil {
			return nil, filterError("%q is not a sub-attribute of %s", x.Path.String(), c.elem.Attr.Name)
		}
		n.attr = target.Name
		n.key = c.elemKey + "." + target.Name
	} else {
		ref, err := c.resolve(x.Path)
		if err != nil {
			return nil, err
		}
		target = ref.Target()
		n.ext, n.attr = extKey(c.rt, ref.Schema), ref.Attr.Name
		if ref.Sub != nil {
			n.sub = ref.Sub.Name
		}
		n.key = indexKey(c.rt, ref.Schema, ref.Attr, ref.Sub)
	}
	// RFC 7644 §3.4.2.2: a complex multi-valued attribute compared without a
	// sub-attribute ("emails co ...") compares its "value" sub-attribute.
	if target.Type == schema.Complex && x.Op != Pr {
		v := target.Sub("value")
		if v == nil {
			return nil, filterError("%s is complex: compare one of its sub-attributes, or use pr", x.Path)
		}
		n.sub, target = v.Name, v
		n.key += "." + v.Name
	}
	n.typ, n.caseExact = target.Type, target.CaseExact
	if err := n.setOperand(x); err != nil {
		return nil, err
	}
	return n, nil
}

// extKey is the document key of the object holding s's attributes, "" when
// they are top-level.
func extKey(rt *schema.ResourceType, s *schema.Schema) string {
	if rt.IsExtension(s) {
		return s.ID
	}
	return ""
}

// indexKey is the canonical name Plan reports: "emails.value", or
// "<urn>:attr" for an extension attribute.
func indexKey(rt *schema.ResourceType, s *schema.Schema, a, sub *schema.Attribute) string {
	k := a.Name
	if sub != nil {
		k += "." + sub.Name
	}
	if rt.IsExtension(s) {
		k = s.ID + ":" + k
	}
	return k
}

func stringLike(t schema.Type) bool {
	return t == schema.String || t == schema.Reference || t == schema.Binary
}

// setOperand checks op against the attribute type and converts the value.
// A value of the wrong JSON type for the attribute (a number compared with
// a string attribute) is not an error: it can match nothing, as the RFC's
// "compared according to the attribute type" leaves no other reading.
func (n *cmpNode) setOperand(x Compare) error {
	switch x.Op {
	case Pr:
		return nil
	case Eq, Ne:
	case Gt, Ge, Lt, Le:
		if n.typ == schema.Boolean || n.typ == schema.Binary {
			return filterError("%s cannot be used with %s, which is %s", x.Op, x.Path, n.typ)
		}
		switch x.Value.(type) {
		case string, float64, int, int64:
		default:
			return filterError("%s needs a string, number or dateTime value, not %s", x.Op, formatValue(x.Value))
		}
	case Co, Sw, Ew:
		if !stringLike(n.typ) {
			return filterError("%s cannot be used with %s, which is %s", x.Op, x.Path, n.typ)
		}
		if _, ok := x.Value.(string); !ok {
			return filterError("%s needs a string value, not %s", x.Op, formatValue(x.Value))
		}
	default:
		return filterError("unknown operator %q", x.Op)
	}
	if x.Value == nil {
		n.kind = kNull
		return nil
	}
	n.kind = kMismatch
	switch n.typ {
	case schema.String, schema.Reference, schema.Binary:
		if s, ok := x.Value.(string); ok {
			n.kind, n.str, n.lower = kStr, s, strings.ToLower(s)
		}
	case schema.DateTime:
		if s, ok := x.Value.(string); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return filterError("%s is a dateTime: %s is not like \"2024-01-02T15:04:05Z\"", x.Path, quote(s))
			}
			n.kind, n.str, n.t = kTime, s, t
		}
	case schema.Integer, schema.Decimal:
		if f, ok := toFloat(x.Value); ok {
			n.kind, n.num = kNum, f
		}
	case schema.Boolean:
		// Entra sends booleans as "True"/"False" strings in PATCH values;
		// accept the same spelling here.
		switch v := x.Value.(type) {
		case bool:
			n.kind, n.b = kBool, v
		case string:
			if strings.EqualFold(v, "true") || strings.EqualFold(v, "false") {
				n.kind, n.b = kBool, strings.EqualFold(v, "true")
			}
		}
	}
	return nil
}
