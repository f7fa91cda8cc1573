package schema

import (
	"strings"
)

// Extension is a schema extension of a resource type.
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType is a SCIM resource type: its core schema and extensions.
type ResourceType struct {
	ID          string
	Name        string
	Endpoint    string
	Description string
	Schema      *Schema
	Extensions  []Extension
}

// NewUserType is the User resource type with the enterprise extension and
// any extra (configured) extension schemas.
func NewUserType(extra ...*Schema) *ResourceType {
	rt := &ResourceType{ID: "User", Name: "User", Endpoint: "/Users", Description: "User Account", Schema: User,
		Extensions: []Extension{{Schema: Enterprise}}}
	for _, s := range extra {
		rt.Extensions = append(rt.Extensions, Extension{Schema: s})
	}
	return rt
}

// NewGroupType is the Group resource type.
func NewGroupType() *ResourceType {
	return &ResourceType{ID: "Group", Name: "Group", Endpoint: "/Groups", Description: "Group", Schema: Group}
}

// Extension returns the extension schema with the given URN, compared
// case-insensitively, or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.Schema.ID, urn) {
			return e.Schema
		}
	}
	return nil
}

// Path is an attribute path of RFC 7644 §3.10 without a value filter:
// [URN ":"] attr ["." sub]. It is syntax only; Resolve gives it meaning.
type Path struct {
	URN  string
	Attr string
	Sub  string
}

func (p Path) String() string {
	s := p.Attr
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	return s
}

// ParsePath parses an attribute path. A schema URN prefix is everything up to
// the last colon: attribute names cannot contain one, while URNs contain
// dots ("2.0"), so the split must happen at the colon, not the dot.
func ParsePath(s string) (Path, error) {
	var p Path
	rest := s
	if len(s) > 4 && strings.EqualFold(s[:4], "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URN, rest = s[:i], s[i+1:]
	}
	var dotted bool
	p.Attr, p.Sub, dotted = strings.Cut(rest, ".")
	if !validAttrName(p.Attr) || (dotted && !validAttrName(p.Sub)) {
		return Path{}, Errorf(InvalidPath, s, "not a valid attribute path")
	}
	return p, nil
}

// Ref is a resolved path. Attr is nil when the path names a whole extension
// (the URN alone); Sub is nil when the path names the whole attribute.
type Ref struct {
	Schema *Schema
	Attr   *Attribute
	Sub    *Attribute
}

// Target is the attribute the path ends at.
func (r Ref) Target() *Attribute {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// Resolve finds what p refers to in rt. Unqualified names refer to the common
// attributes or the core schema; extension attributes need their URN.
func (rt *ResourceType) Resolve(p Path) (Ref, error) {
	var s *Schema
	var a *Attribute
	switch {
	case p.URN == "":
		if a = Common.Attr(p.Attr); a != nil {
			s = Common
		} else if a = rt.Schema.Attr(p.Attr); a != nil {
			s = rt.Schema
		}
	case strings.EqualFold(p.URN, rt.Schema.ID):
		s, a = rt.Schema, rt.Schema.Attr(p.Attr)
	default:
		if ext := rt.Extension(p.URN + ":" + p.Attr); ext != nil && p.Sub == "" {
			return Ref{Schema: ext}, nil
		}
		s = rt.Extension(p.URN)
		if s == nil {
			return Ref{}, Errorf(InvalidPath, p.String(), "unknown schema %q for %s", p.URN, rt.Name)
		}
		a = s.Attr(p.Attr)
	}
	if a == nil {
		return Ref{}, Errorf(InvalidPath, p.String(), "no such attribute in %s", rt.Name)
	}
	r := Ref{Schema: s, Attr: a}
	if p.Sub != "" {
		if a.Type != Complex {
			return Ref{}, Errorf(InvalidPath, p.String(), "%s has no sub-attributes", a.Name)
		}
		if r.Sub = a.Sub(p.Sub); r.Sub == nil {
			return Ref{}, Errorf(InvalidPath, p.String(), "%s has no sub-attribute %q", a.Name, p.Sub)
		}
	}
	return r, nil
}

// ResolveString parses and resolves a path in one step.
func (rt *ResourceType) ResolveString(s string) (Ref, error) {
	p, err := ParsePath(s)
	if err != nil {
		return Ref{}, err
	}
	return rt.Resolve(p)
}

// IsExtension reports whether attributes of s live in a nested object keyed
// by its URN.
func (rt *ResourceType) IsExtension(s *Schema) bool {
	return s != rt.Schema && s != Common
}

// Container returns the object of doc that holds r's attribute: doc itself
// or the extension object. With create, a missing extension object is added.
func (rt *ResourceType) Container(doc map[string]any, r Ref, create bool) map[string]any {
	if !rt.IsExtension(r.Schema) {
		return doc
	}
	ext, _ := doc[r.Schema.ID].(map[string]any)
	if ext == nil && create {
		ext = map[string]any{}
		doc[r.Schema.ID] = ext
	}
	return ext
}

// Value returns the value r's attribute has in doc (sub-attribute values of
// multi-valued attributes are not collected: that is the filter's job).
func (rt *ResourceType) Value(doc map[string]any, r Ref) (any, bool) {
	c := rt.Container(doc, r, false)
	if c == nil || r.Attr == nil {
		return nil, false
	}
	v, ok := c[r.Attr.Name]
	if !ok || r.Sub == nil {
		return v, ok
	}
	m, _ := v.(map[string]any)
	sv, ok := m[r.Sub.Name]
	return sv, ok
}
