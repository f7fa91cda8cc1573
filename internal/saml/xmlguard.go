package saml

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// Limits of a document the guard lets through; a real response is a few
// dozen elements, a few levels deep, each with a handful of attributes
// (namespace declarations included). Checking that no attribute repeats
// costs the square of an element's count: 20,000 attributes on one
// element would cost seconds.
const (
	maxXMLDepth    = 32
	maxXMLElements = 4096
	maxXMLAttrs    = 64
)

var errForbiddenXML = errors.New("forbidden XML construct")

// checkXML reads the document once with a strict tokenizer (xmlscan.go)
// and refuses what a SAML message never needs and attacks use: DTDs and
// entity declarations (XXE, entity expansion; ENV-4), comments (a comment
// splits a NameID so that the signed text and the text a naive reader
// takes differ), processing instructions, names that are not a prefix and
// a local name (the encoding/xml round-trip confusions) or are not ASCII,
// an attribute given twice, and documents deeper or larger, or elements
// with more attributes, than any real response.
func checkXML(doc []byte) error {
	_, err := readXML(doc, false)
	return err
}

// parseXML is checkXML that also builds the document's tree, in the same
// single pass: the tree grows only as far as the guard lets the document
// go, so a refused document never gets a tree bigger than the limits. The
// tree is what etree's own parser would build from an accepted document;
// xmlguard_test.go compares the two.
func parseXML(doc []byte) (*etree.Element, error) {
	return readXML(doc, true)
}

func readXML(doc []byte, build bool) (*etree.Element, error) {
	s := xmlScanner{doc: doc}
	var (
		open     []xmlName        // the elements open, innermost last
		parents  []*etree.Element // their tree nodes, when building
		root     *etree.Element
		elements int
		roots    int
	)
	for first := true; ; first = false {
		tok, err := s.next()
		if err != nil {
			return nil, err
		}
		switch tok {
		case tokEOF:
			switch {
			case len(open) > 0:
				return nil, fmt.Errorf("not well-formed XML: <%s> is not closed", open[len(open)-1])
			case roots != 1:
				return nil, fmt.Errorf("not well-formed XML: %d root elements", roots)
			}
			if build {
				etree.NewDocument().SetRoot(root)
			}
			return root, nil
		case tokDirective:
			return nil, fmt.Errorf("%w: a <!%s declaration", errForbiddenXML, firstWord(s.text))
		case tokComment:
			return nil, fmt.Errorf("%w: a comment", errForbiddenXML)
		case tokProcInst:
			if !first || s.tag.local != "xml" {
				return nil, fmt.Errorf("%w: processing instruction %q", errForbiddenXML, s.tag.local)
			}
		case tokStart:
			if len(open) == 0 {
				roots++
			}
			elements++
			if len(open)+1 > maxXMLDepth || elements > maxXMLElements {
				return nil, fmt.Errorf("%w: deeper than %d or more than %d elements", errForbiddenXML, maxXMLDepth, maxXMLElements)
			}
			if len(s.attrs) > maxXMLAttrs {
				return nil, fmt.Errorf("%w: more than %d attributes on <%s>", errForbiddenXML, maxXMLAttrs, s.tag)
			}
			if err := checkStart(s.tag, s.attrs); err != nil {
				return nil, err
			}
			if build {
				el := newTreeElement(s.tag, s.attrs)
				if n := len(parents); n > 0 {
					parents[n-1].AddChild(el)
				} else if root == nil {
					root = el
				}
				parents = append(parents, el)
			}
			open = append(open, s.tag)
			if s.selfClosing {
				open = open[:len(open)-1]
				if build {
					parents = parents[:len(parents)-1]
				}
			}
		case tokEnd:
			n := len(open)
			if n == 0 || open[n-1] != s.tag {
				return nil, fmt.Errorf("not well-formed XML: unexpected end tag </%s>", s.tag)
			}
			open = open[:n-1]
			if build {
				parents = parents[:n-1]
			}
		case tokText:
			n := len(parents)
			switch {
			case len(open) == 0 && len(bytes.TrimSpace(s.text)) > 0:
				return nil, errors.New("not well-formed XML: text outside the root element")
			case build && n > 0:
				// SetData marks whitespace-only text as etree's parser does.
				parents[n-1].CreateText("").SetData(string(s.text))
			}
		}
	}
}

// checkStart checks the names of a start tag, and that no attribute is
// given twice (XML's "Unique Att Spec"; etree would keep the last value).
func checkStart(name xmlName, attrs []xmlAttr) error {
	if err := checkName(name); err != nil {
		return err
	}
	for i, a := range attrs {
		if err := checkName(a.name); err != nil {
			return err
		}
		for _, b := range attrs[:i] {
			if a.name == b.name {
				return fmt.Errorf("not well-formed XML: attribute %s twice on <%s>", a.name, name)
			}
		}
	}
	return nil
}

// newTreeElement makes the etree element of a start tag, as etree's parser
// does: Space is the prefix as written, Tag the local name.
func newTreeElement(name xmlName, attrs []xmlAttr) *etree.Element {
	el := etree.NewElement(name.local)
	el.Space = name.space
	el.Attr = make([]etree.Attr, 0, len(attrs))
	for _, a := range attrs {
		el.CreateAttr(a.name.String(), a.value)
	}
	return el
}

func (n xmlName) String() string {
	if n.space == "" {
		return n.local
	}
	return n.space + ":" + n.local
}

// checkName refuses a name with a colon at either end, which has no
// prefix and a local name with a colon in it.
func checkName(n xmlName) error {
	if strings.Contains(n.local, ":") {
		return fmt.Errorf("%w: the name %q is not a prefix and a local name", errForbiddenXML, n)
	}
	return nil
}

func firstWord(d []byte) string {
	w, _, _ := strings.Cut(strings.TrimSpace(string(d)), " ")
	return w
}
