package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// Limits of a document the guard lets through; a real response is a few
// dozen elements, a few levels deep.
const (
	maxXMLDepth    = 32
	maxXMLElements = 4096
)

var errForbiddenXML = errors.New("forbidden XML construct")

// checkXML reads the document once with a strict tokenizer and refuses
// what a SAML message never needs and attacks use: DTDs and entity
// declarations (XXE, entity expansion; ENV-4), comments (a comment splits
// a NameID so that the signed text and the text a naive reader takes
// differ), processing instructions, names with more than one colon (the
// encoding/xml round-trip confusions), an attribute given twice, and
// documents deeper or larger than any real response.
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
	// The decoder is strict and has no CharsetReader, so a document
	// declaring any encoding other than UTF-8 is refused.
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var (
		open     []xml.Name       // the elements open, innermost last
		parents  []*etree.Element // their tree nodes, when building
		root     *etree.Element
		elements int
		roots    int
	)
	for first := true; ; first = false {
		// RawToken, not Token: names stay as written (prefix:local) and
		// end tags are matched below, as Token would.
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, fmt.Errorf("%w: a <!%s declaration", errForbiddenXML, firstWord(t))
		case xml.Comment:
			return nil, fmt.Errorf("%w: a comment", errForbiddenXML)
		case xml.ProcInst:
			if !first || t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction %q", errForbiddenXML, t.Target)
			}
		case xml.StartElement:
			if len(open) == 0 {
				roots++
			}
			elements++
			if len(open)+1 > maxXMLDepth || elements > maxXMLElements {
				return nil, fmt.Errorf("%w: deeper than %d or more than %d elements", errForbiddenXML, maxXMLDepth, maxXMLElements)
			}
			if err := checkStart(t); err != nil {
				return nil, err
			}
			open = append(open, t.Name)
			if build {
				el := newTreeElement(t)
				if n := len(parents); n > 0 {
					parents[n-1].AddChild(el)
				} else if root == nil {
					root = el
				}
				parents = append(parents, el)
			}
		case xml.EndElement:
			n := len(open)
			if n == 0 || open[n-1] != t.Name {
				return nil, fmt.Errorf("not well-formed XML: unexpected end tag </%s>", fullName(t.Name))
			}
			open = open[:n-1]
			if build {
				parents = parents[:n-1]
			}
		case xml.CharData:
			n := len(parents)
			switch {
			case len(open) == 0 && len(bytes.TrimSpace(t)) > 0:
				return nil, errors.New("not well-formed XML: text outside the root element")
			case build && n > 0:
				// SetData marks whitespace-only text as etree's parser does.
				parents[n-1].CreateText("").SetData(string(t))
			}
		}
	}
	switch {
	case len(open) > 0:
		return nil, fmt.Errorf("not well-formed XML: <%s> is not closed", fullName(open[len(open)-1]))
	case roots != 1:
		return nil, fmt.Errorf("not well-formed XML: %d root elements", roots)
	}
	if build {
		etree.NewDocument().SetRoot(root)
	}
	return root, nil
}

// checkStart checks the names of a start tag, and that no attribute is
// given twice (XML's "Unique Att Spec"; etree would keep the last value).
func checkStart(t xml.StartElement) error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	for i, a := range t.Attr {
		if err := checkName(a.Name); err != nil {
			return err
		}
		for _, b := range t.Attr[:i] {
			if a.Name == b.Name {
				return fmt.Errorf("not well-formed XML: attribute %s twice on <%s>", fullName(a.Name), fullName(t.Name))
			}
		}
	}
	return nil
}

// newTreeElement makes the etree element of a start tag, as etree's parser
// does: Space is the prefix as written, Tag the local name.
func newTreeElement(t xml.StartElement) *etree.Element {
	el := etree.NewElement(t.Name.Local)
	el.Space = t.Name.Space
	el.Attr = make([]etree.Attr, 0, len(t.Attr))
	for _, a := range t.Attr {
		el.CreateAttr(fullName(a.Name), a.Value)
	}
	return el
}

func fullName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func checkName(n xml.Name) error {
	if strings.Contains(n.Local, ":") {
		return fmt.Errorf("%w: the name %s:%s has more than one colon", errForbiddenXML, n.Space, n.Local)
	}
	return nil
}

func firstWord(d xml.Directive) string {
	w, _, _ := strings.Cut(strings.TrimSpace(string(d)), " ")
	return w
}
