package schema

import "strings"

// Projection is a parsed pair of the attributes and excludedAttributes
// parameters (RFC 7644 §3.9). The zero value returns the default set.
type Projection struct {
	include []Ref
	exclude []Ref
}

// ParseProjection parses the two comma-separated lists. At most one may be
// non-empty.
func (rt *ResourceType) ParseProjection(attributes, excluded string) (Projection, error) {
	var p Projection
	var err error
	if strings.TrimSpace(attributes) != "" && strings.TrimSpace(excluded) != "" {
		return p, Errorf(InvalidSyntax, "attributes", "attributes and excludedAttributes cannot be used together")
	}
	if p.include, err = rt.parseRefList(attributes, "attributes"); err != nil {
		return p, err
	}
	p.exclude, err = rt.parseRefList(excluded, "excludedAttributes")
	return p, err
}

func (rt *ResourceType) parseRefList(list, param string) ([]Ref, error) {
	var refs []Ref
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		r, err := rt.ResolveString(item)
		if err != nil {
			return nil, Errorf(InvalidPath, param, "%q: %s", item, reasonOf(err))
		}
		refs = append(refs, r)
	}
	return refs, nil
}

func reasonOf(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Reason
	}
	return err.Error()
}

// Includes reports whether the projection returns the attribute a of schema
// s at all; callers use it to skip computing expensive attributes such as a
// group's members.
func (p Projection) Includes(rt *ResourceType, s *Schema, a *Attribute) bool {
	keep, _ := p.decide(rt, s, a)
	return keep
}

// Apply returns the projection of doc. doc is not modified.
func (p Projection) Apply(rt *ResourceType, doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	p.applySchema(rt, Common, doc, out)
	p.applySchema(rt, rt.Schema, doc, out)
	for _, e := range rt.Extensions {
		src, _ := doc[e.Schema.ID].(map[string]any)
		if src == nil {
			continue
		}
		dst := map[string]any{}
		p.applySchema(rt, e.Schema, src, dst)
		if len(dst) > 0 {
			out[e.Schema.ID] = dst
		}
	}
	return out
}

func (p Projection) applySchema(rt *ResourceType, s *Schema, src, dst map[string]any) {
	for _, a := range s.Attributes {
		v, ok := src[a.Name]
		if !ok {
			continue
		}
		keep, subs := p.decide(rt, s, a)
		if !keep {
			continue
		}
		if subs != nil {
			v = filterSubs(a, v, subs)
		}
		if !IsEmpty(v) {
			dst[a.Name] = v
		}
	}
}

// decide says whether a is returned and, when only some of its
// sub-attributes are, which ones (nil means all).
func (p Projection) decide(rt *ResourceType, s *Schema, a *Attribute) (bool, func(*Attribute) bool) {
	switch a.Returned {
	case ReturnedNever:
		return false, nil
	case ReturnedAlways:
		return true, nil
	}
	if len(p.include) > 0 {
		var named []*Attribute
		for _, r := range p.include {
			switch {
			case r.Attr == nil && r.Schema == s: // the whole extension
				return true, nil
			case r.Attr == a && r.Sub == nil:
				return true, nil
			case r.Attr == a:
				named = append(named, r.Sub)
			}
		}
		if len(named) == 0 {
			return false, nil
		}
		return true, func(sub *Attribute) bool {
			return sub.Returned == ReturnedAlways || containsAttr(named, sub)
		}
	}
	if a.Returned == ReturnedRequest {
		return false, nil
	}
	var dropped []*Attribute
	for _, r := range p.exclude {
		switch {
		case r.Attr == nil && r.Schema == s:
			return false, nil
		case r.Attr == a && r.Sub == nil:
			return false, nil
		case r.Attr == a:
			dropped = append(dropped, r.Sub)
		}
	}
	return true, func(sub *Attribute) bool {
		return sub.Returned != ReturnedNever && (sub.Returned == ReturnedAlways || !containsAttr(dropped, sub))
	}
}

func containsAttr(list []*Attribute, a *Attribute) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// filterSubs keeps the sub-attributes keep accepts, in a complex value or in
// every element of a multi-valued one.
func filterSubs(a *Attribute, v any, keep func(*Attribute) bool) any {
	switch x := v.(type) {
	case map[string]any:
		return filterObject(a, x, keep)
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				if f := filterObject(a, m, keep); len(f) > 0 {
					out = append(out, f)
				}
			}
		}
		return out
	}
	return v
}

func filterObject(a *Attribute, m map[string]any, keep func(*Attribute) bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub := a.Sub(k); sub != nil && keep(sub) {
			out[k] = v
		}
	}
	return out
}
