package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits of a document the guard lets through; a real response is a few
// dozen elements, a few levels deep.
const (
	maxXMLDepth    = 32
	maxXMLElements = 4096
)

var errForbiddenXML = errors.New("forbidden XML construct")

// checkXML reads the document once with a strict tokenizer, before any
// parsing that builds a tree, and refuses what a SAML message never needs
// and attacks use: DTDs and entity declarations (XXE, entity expansion;
// ENV-4), comments (a comment splits a NameID so that the signed text and
// the text a naive reader takes differ), processing instructions, names
// with more than one colon (the encoding/xml round-trip confusions), and
// documents deeper or larger than any real response.
func checkXML(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	depth, elements, roots := 0, 0, 0
	for first := true; ; first = false {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return fmt.Errorf("%w: a <!%s declaration", errForbiddenXML, firstWord(t))
		case xml.Comment:
			return fmt.Errorf("%w: a comment", errForbiddenXML)
		case xml.ProcInst:
			if !first || t.Target != "xml" {
				return fmt.Errorf("%w: processing instruction %q", errForbiddenXML, t.Target)
			}
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			elements++
			if depth > maxXMLDepth || elements > maxXMLElements {
				return fmt.Errorf("%w: deeper than %d or more than %d elements", errForbiddenXML, maxXMLDepth, maxXMLElements)
			}
			if err := checkName(t.Name); err != nil {
				return err
			}
			for _, a := range t.Attr {
				if err := checkName(a.Name); err != nil {
					return err
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("not well-formed XML: text outside the root element")
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("not well-formed XML: %d root elements", roots)
	}
	return nil
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
