package saml

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Namespaces XML reserves.
const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// maxSignedElements is goxmldsig's traversal limit on a signed element.
const maxSignedElements = 1000

var errReservedNamespace = errors.New("declaration of a reserved namespace")

// binding is a namespace prefix bound to a URI ("" is the default
// namespace).
type binding struct{ prefix, uri string }

// canonicalize writes the exclusive XML canonical form (without comments)
// of el, leaving out its child skip (the enveloped signature) when not
// nil, with prefixList as the InclusiveNamespaces PrefixList.
//
// The bytes are those goxmldsig's exclusive canonicalizer gives (the
// element detached with its in-scope namespaces by etreeutils.NSDetatch,
// etreeutils.TransformExcC14n, serialised with its canonical write
// settings), quirks included; c14n_test.go compares the two. It only reads
// the tree: no copy of the element, no namespace map per element. Its
// callers read nothing from the tree it was given: they parse back the
// bytes it wrote, which are what the digest or signature covers.
func canonicalize(el, skip *etree.Element, prefixList string) ([]byte, error) {
	c := &c14n{out: xmlOut{canonical: true, b: make([]byte, 0, 4096)}, skip: skip}
	c.inclusive = strings.Fields(prefixList)
	c.scope = append(c.scope, binding{"", nsXML}, binding{"xml", nsXML}, binding{"xmlns", nsXMLNS})
	c.rendered = append(c.rendered, c.scope...)
	var ancestors []*etree.Element
	for p := el.Parent(); p != nil; p = p.Parent() {
		ancestors = append(ancestors, p)
	}
	for i := len(ancestors) - 1; i >= 0; i-- {
		if err := c.bind(ancestors[i]); err != nil {
			return nil, err
		}
	}
	if n := countElements(el, maxSignedElements+1); n > maxSignedElements {
		return nil, fmt.Errorf("more than %d elements to canonicalize", maxSignedElements)
	}
	if err := c.element(el, true); err != nil {
		return nil, err
	}
	return c.out.b, nil
}

type c14n struct {
	out       xmlOut
	skip      *etree.Element
	inclusive []string
	scope     []binding // the namespaces in scope, innermost last
	rendered  []binding // those declared in the output so far, innermost last
	attrs     []etree.Attr
}

// bind adds the namespace declarations of el to the scope, refusing what
// etreeutils.NSContext.SubContext refuses.
func (c *c14n) bind(el *etree.Element) error {
	for _, a := range el.Attr {
		switch {
		case a.Space == "xmlns":
			if a.Key == "xml" && a.Value != nsXML || a.Key == "xmlns" {
				return fmt.Errorf("%w: xmlns:%s", errReservedNamespace, a.Key)
			}
			c.scope = append(c.scope, binding{a.Key, a.Value})
		case a.Space == "" && a.Key == "xmlns":
			if a.Value == nsXMLNS {
				return fmt.Errorf("%w: the default namespace", errReservedNamespace)
			}
			c.scope = append(c.scope, binding{"", a.Value})
		}
	}
	return nil
}

func lookup(list []binding, prefix string) (string, bool) {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].prefix == prefix {
			return list[i].uri, true
		}
	}
	return "", false
}

func (c *c14n) included(prefix string) bool {
	for _, p := range c.inclusive {
		if p == prefix {
			return true
		}
	}
	return false
}

func (c *c14n) element(el *etree.Element, apex bool) error {
	scopeLen, renderedLen, attrsLen := len(c.scope), len(c.rendered), len(c.attrs)
	defer func() {
		c.scope, c.rendered, c.attrs = c.scope[:scopeLen], c.rendered[:renderedLen], c.attrs[:attrsLen]
	}()
	if err := c.bind(el); err != nil {
		return err
	}
	// The prefixes the element visibly uses: its own, its attributes',
	// and those of the InclusiveNamespaces list it declares (the apex,
	// once detached, declares every namespace in scope).
	used := []string{el.Space}
	add := func(p string) {
		for _, u := range used {
			if u == p {
				return
			}
		}
		used = append(used, p)
	}
	for _, a := range el.Attr {
		switch {
		case a.Space == "xmlns":
			if !apex && c.included(a.Key) {
				add(a.Key)
			}
		case a.Space == "" && a.Key == "xmlns":
			if !apex && c.included("") {
				add("")
			}
		default:
			if a.Space != "" {
				add(a.Space)
			}
			c.attrs = append(c.attrs, a)
		}
	}
	if apex {
		for i := len(c.scope) - 1; i >= 0; i-- {
			b := c.scope[i]
			if u, _ := lookup(c.scope, b.prefix); u != b.uri || b.prefix == "xml" || b.prefix == "xmlns" || b.prefix == "" && b.uri == nsXML {
				continue // shadowed, or not declared by NSDetatch
			}
			if c.included(b.prefix) {
				add(b.prefix)
			}
		}
	}
	for _, p := range used {
		uri, inScope := lookup(c.scope, p)
		if r, ok := lookup(c.rendered, p); ok && inScope && r == uri {
			continue
		}
		if !inScope {
			return etreeutils.ErrUndeclaredNSPrefix{Prefix: p}
		}
		c.rendered = append(c.rendered, binding{p, uri})
		if p == "" {
			c.attrs = append(c.attrs, etree.Attr{Key: "xmlns", Value: uri})
		} else {
			c.attrs = append(c.attrs, etree.Attr{Space: "xmlns", Key: p, Value: uri})
		}
	}
	attrs := c.attrs[attrsLen:]
	sort.Sort(etreeutils.SortedAttrs(attrs))

	x := &c.out
	x.startName(el.Space, el.Tag)
	for _, a := range attrs {
		x.attrName(a.Space, a.Key, a.Value)
	}
	x.endStart()
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if t == c.skip {
				continue
			}
			if err := c.element(t, false); err != nil {
				return err
			}
		case *etree.CharData:
			if t.IsCData() {
				return errors.New("a CDATA section to canonicalize")
			}
			x.text(t.Data)
		default:
			return fmt.Errorf("a %T to canonicalize", t)
		}
	}
	x.endName(el.Space, el.Tag)
	return nil
}

// countElements counts el and the elements below it, up to limit.
func countElements(el *etree.Element, limit int) int {
	n := 1
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && n < limit {
			n += countElements(c, limit-n)
		}
	}
	return n
}
