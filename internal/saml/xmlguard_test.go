package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// parseXML replaced a guard pass (encoding/xml's Token) followed by
// etree's parser, and its own tokenizer replaced encoding/xml's.
// FuzzParseXML holds it to that pair: it accepts exactly what both
// accepted (less a repeated attribute, which etree silently merged, and a
// name outside ASCII, which encoding/xml takes), refuses with the same
// class of error (forbidden construct or malformed), and builds the tree
// etree built.
func FuzzParseXML(f *testing.F) {
	e := newEnv(f, envOptions{idpInit: true})
	f.Add(e.validResponse("alice@example.com", t0).xml(f))
	f.Add(renderShape(f, e, entraShape))
	f.Add(renderShape(f, e, oktaShape))
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n<a xmlns:p='u'><p:b c='1' p:d='&amp;2'>t&lt;<![CDATA[x<y]]></p:b>\n\t</a>\n",
		`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
		`<a><b></a></b>`, `<a><p:b></q:b></a>`, `<a b="1" b="2"/>`, `<a p:b="1" q:b="2"/>`,
		`<a/><b/>`, `x<a/>`, `<é/>`, `<a é="1"/>`, `<a>&#xD800;&#13;&#x10FFFF;&#0;</a>`, `<a b='x]]>y'>]]></a>`,
		`<a><![CDATA[` + "\r\n]]]>" + `</a>`, "<a b='\r\n\t'>\r</a>", `<?xml version='1.0' encoding='utf-8'?><a/>`,
		`<!DOCTYPE a [<!ENTITY x "<">]><a/>`, `<!DOCTYPE a "<!-- '>' -->"`, `<a><!--->--></a>`, `<a b="1"c="2" / >`, `<a/>x`, `<a>`, `</a>`, `<a:b:c/>`, `<a :b="1"/>`, `<a><?pi x?></a>`,
		` <?xml version="1.0"?><a/>`, `<!DOCTYPE a><a/>`, `<a><!-- c --></a>`, `<a>&ent;</a>`,
		strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1),
	} {
		f.Add([]byte(s))
	}
	// The ACS corpus: the attack shapes.
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzACS", "*"))
	for _, name := range files {
		if doc, err := readCorpusBytes(name); err == nil {
			f.Add(doc)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, err := parseXML(doc)
		if errors.Is(err, errNonASCIIName) {
			if !bytes.ContainsFunc(doc, func(r rune) bool { return r >= utf8.RuneSelf }) {
				t.Fatalf("a name outside ASCII in an ASCII document:\n%q", doc)
			}
			return
		}
		if manyAttributes(doc) {
			if !errors.Is(err, errForbiddenXML) {
				t.Fatalf("parseXML: %v for an element with more than %d attributes", err, maxXMLAttrs)
			}
			return
		}
		if repeatsAttribute(doc) {
			if err == nil {
				t.Fatalf("parseXML accepts a repeated attribute:\n%q", doc)
			}
			return
		}
		want, werr := referenceParse(doc)
		switch {
		case err == nil && werr != nil:
			t.Fatalf("parseXML accepts what the reference refuses (%v):\n%q", werr, doc)
		case err != nil && werr == nil:
			t.Fatalf("parseXML refuses what the reference accepts (%v):\n%q", err, doc)
		case err != nil:
			if errors.Is(err, errForbiddenXML) != errors.Is(werr, errForbiddenXML) {
				t.Fatalf("parseXML: %v; reference: %v\n%q", err, werr, doc)
			}
			if cerr := checkXML(doc); (cerr == nil) != (err == nil) || errors.Is(cerr, errForbiddenXML) != errors.Is(err, errForbiddenXML) {
				t.Fatalf("checkXML %v, parseXML %v", cerr, err)
			}
			return
		}
		if g, w := treeString(got), treeString(want); g != w {
			t.Fatalf("trees differ for %q:\nparseXML  %s\nreference %s", doc, g, w)
		}
		if checkXML(doc) != nil {
			t.Fatal("checkXML refuses what parseXML accepts")
		}
	})
}

// readCorpusBytes reads a one-[]byte "go test fuzz v1" file.
func readCorpusBytes(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	_, lit, ok := strings.Cut(strings.TrimSpace(string(data)), "\n[]byte(")
	if !ok {
		return nil, errors.New("not a []byte corpus entry")
	}
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	return []byte(s), err
}

// referenceParse is the former pair: the guard on encoding/xml's Token,
// then etree's parser.
func referenceParse(doc []byte) (*etree.Element, error) {
	if err := referenceCheckXML(doc); err != nil {
		return nil, err
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, err
	}
	return d.Root(), nil
}

// repeatsAttribute reports whether a start tag has an attribute twice, as
// written (prefix and local name).
func repeatsAttribute(doc []byte) bool {
	return anyStart(doc, func(t xml.StartElement) bool {
		for i, a := range t.Attr {
			for _, b := range t.Attr[:i] {
				if a.Name == b.Name {
					return true
				}
			}
		}
		return false
	})
}

// manyAttributes reports whether a start tag that encoding/xml reads,
// before anything it refuses, has more than maxXMLAttrs attributes.
func manyAttributes(doc []byte) bool {
	return anyStart(doc, func(t xml.StartElement) bool { return len(t.Attr) > maxXMLAttrs })
}

func anyStart(doc []byte, match func(xml.StartElement) bool) bool {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		if t, ok := tok.(xml.StartElement); ok && match(t) {
			return true
		}
	}
}

// referenceCheckXML is checkXML as it was before parseXML.
func referenceCheckXML(doc []byte) error {
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
			if err := checkName(xmlName{t.Name.Space, t.Name.Local}); err != nil {
				return err
			}
			for _, a := range t.Attr {
				if err := checkName(xmlName{a.Name.Space, a.Name.Local}); err != nil {
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

// treeString writes an element tree with everything etree keeps: prefix,
// tag, attributes in order, text with its whitespace flag, child order.
func treeString(el *etree.Element) string {
	var b strings.Builder
	var walkTree func(el *etree.Element)
	walkTree = func(el *etree.Element) {
		fmt.Fprintf(&b, "<%q:%q", el.Space, el.Tag)
		for _, a := range el.Attr {
			fmt.Fprintf(&b, " %q:%q=%q", a.Space, a.Key, a.Value)
		}
		b.WriteString(">")
		for _, c := range el.Child {
			switch c := c.(type) {
			case *etree.Element:
				walkTree(c)
			case *etree.CharData:
				fmt.Fprintf(&b, "[%q ws=%t cdata=%t]", c.Data, c.IsWhitespace(), c.IsCData())
			default:
				fmt.Fprintf(&b, "{%T}", c)
			}
		}
		b.WriteString("</>")
	}
	walkTree(el)
	return b.String()
}

// TestParseXMLText pins what the tokenizer decodes, which the fuzz target
// only compares: entities and character references, line ends, CDATA,
// text outside ASCII; and the one thing it refuses that encoding/xml
// takes, a name outside ASCII.
func TestParseXMLText(t *testing.T) {
	for _, tt := range []struct {
		doc, text, attr string
		err             error
	}{
		{doc: `<a v="x&amp;&lt;&#65;&#x42;">&quot;&apos;&gt;</a>`, text: `"'>`, attr: "x&<AB"},
		{doc: "<a v='1\r\n2\r3'>l1\r\nl2\rl3&#13;</a>", text: "l1\nl2\nl3\r", attr: "1\n2\n3"},
		{doc: "<a><![CDATA[<b>&amp;\r\n]]></a>", text: "<b>&amp;\n"},
		{doc: `<a v="Zoë">名前 ✓</a>`, text: "名前 ✓", attr: "Zoë"},
		{doc: `<a>&#xD800;</a>`, text: "\uFFFD"},
		{doc: `<Zoë/>`, err: errNonASCIIName},
		{doc: `<a Zoë="1"/>`, err: errNonASCIIName},
		{doc: `<a>&#0;</a>`, err: errMalformed},
		{doc: `<a>&nbsp;</a>`, err: errMalformed},
		{doc: `<a>]]></a>`, err: errMalformed},
		{doc: "<a>\x01</a>", err: errMalformed},
		{doc: "<a>\xff</a>", err: errMalformed},
		{doc: `<a v="<"/>`, err: errMalformed},
		{doc: "<a" + manyAttrs(maxXMLAttrs+1) + "/>", err: errForbiddenXML},
		{doc: "<a" + manyAttrs(maxXMLAttrs) + ">x</a>", text: "x"},
	} {
		el, err := parseXML([]byte(tt.doc))
		switch {
		case tt.err == errMalformed:
			if err == nil || errors.Is(err, errForbiddenXML) {
				t.Errorf("%q: %v, want a well-formedness error", tt.doc, err)
			}
		case tt.err != nil:
			if !errors.Is(err, tt.err) {
				t.Errorf("%q: %v, want %v", tt.doc, err, tt.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.doc, err)
		default:
			var text strings.Builder
			for _, c := range el.Child {
				text.WriteString(c.(*etree.CharData).Data)
			}
			if got := text.String(); got != tt.text {
				t.Errorf("%q: text %q, want %q", tt.doc, got, tt.text)
			}
			if got := el.SelectAttrValue("v", ""); got != tt.attr {
				t.Errorf("%q: attribute %q, want %q", tt.doc, got, tt.attr)
			}
		}
	}
}

// errMalformed stands for any refusal that is not errForbiddenXML.
var errMalformed = errors.New("malformed")

// BenchmarkParseXML parses a signed upstream Response.
func BenchmarkParseXML(b *testing.B) {
	e := newEnv(b, envOptions{idpInit: true})
	doc := e.validResponse("alice@example.com", t0).xml(b)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseXML(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// manyAttrs is n distinct attributes.
func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` a%d=""`, i)
	}
	return b.String()
}
