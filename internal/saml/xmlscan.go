package saml

import (
	"bytes"
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// xmlScanner splits a document held in memory into the tokens encoding/xml's
// strict Decoder.RawToken returns, and accepts and refuses what it does
// (FuzzParseXML holds the two together), at a fraction of the cost: a
// sign-in parses three documents, and RawToken, reading byte by byte
// through an io.ByteReader and copying every name and text, was most of
// the upstream verification. Here a text or value with nothing to decode
// is used where it lies, and the names SAML uses are not copied.
//
// One deliberate difference: a name must be ASCII (encoding/xml takes the
// letters of any script). SAML and XML-DSig names are; values and text
// may hold any character.
type xmlScanner struct {
	doc []byte
	pos int

	// The token just read. text may alias doc or buf: valid until the
	// next call.
	tag         xmlName   // start and end tags; a processing instruction's target
	attrs       []xmlAttr // start tags
	selfClosing bool      // start tags
	text        []byte    // text and CDATA; a directive's body

	buf []byte // decoded text
}

type xmlToken int

const (
	tokEOF xmlToken = iota
	tokText
	tokStart
	tokEnd
	tokProcInst
	tokComment
	tokDirective
)

// xmlName is a name as written: the prefix, empty when there is none,
// and the local name.
type xmlName struct{ space, local string }

type xmlAttr struct {
	name  xmlName
	value string
}

var errNonASCIIName = fmt.Errorf("%w: a name outside ASCII", errForbiddenXML)

// next reads the next token; tokEOF at the end of the document.
func (s *xmlScanner) next() (xmlToken, error) {
	if s.pos >= len(s.doc) {
		return tokEOF, nil
	}
	if s.doc[s.pos] != '<' {
		text, err := s.chars(0, false)
		s.text = text
		return tokText, err
	}
	s.pos++
	c, err := s.mustByte()
	if err != nil {
		return 0, err
	}
	switch c {
	case '/':
		return s.endTag()
	case '?':
		return s.procInst()
	case '!':
		return s.bang()
	}
	s.pos--
	return s.startTag()
}

func (s *xmlScanner) startTag() (xmlToken, error) {
	name, err := s.nsName("expected element name after <")
	if err != nil {
		return 0, err
	}
	s.tag, s.attrs, s.selfClosing = name, s.attrs[:0], false
	for {
		s.space()
		c, err := s.mustByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case '/':
			if c, err := s.mustByte(); err != nil || c != '>' {
				return 0, cmp.Or(err, s.syntax("expected /> in element"))
			}
			s.selfClosing = true
			return tokStart, nil
		case '>':
			return tokStart, nil
		}
		s.pos--
		a, err := s.nsName("expected attribute name in element")
		if err != nil {
			return 0, err
		}
		s.space()
		if c, err := s.mustByte(); err != nil || c != '=' {
			return 0, cmp.Or(err, s.syntax("attribute name without = in element"))
		}
		s.space()
		q, err := s.mustByte()
		if err != nil {
			return 0, err
		}
		if q != '"' && q != '\'' {
			return 0, s.syntax("unquoted or missing attribute value in element")
		}
		v, err := s.chars(q, false)
		if err != nil {
			return 0, err
		}
		s.attrs = append(s.attrs, xmlAttr{name: a, value: string(v)})
	}
}

func (s *xmlScanner) endTag() (xmlToken, error) {
	name, err := s.nsName("expected element name after </")
	if err != nil {
		return 0, err
	}
	s.tag = name
	s.space()
	if c, err := s.mustByte(); err != nil || c != '>' {
		return 0, cmp.Or(err, s.syntax("invalid characters between </"+name.local+" and >"))
	}
	return tokEnd, nil
}

// procInst reads <?target data?>. The XML declaration must declare
// version 1.0, if any, and UTF-8, if any encoding: encoding/xml without a
// CharsetReader refuses every other, and reads the declaration loosely,
// as procInstParam does.
func (s *xmlScanner) procInst() (xmlToken, error) {
	target, err := s.name("expected target name after <?")
	if err != nil {
		return 0, err
	}
	s.space()
	end := bytes.Index(s.doc[s.pos:], []byte("?>"))
	if end < 0 {
		return 0, s.eof()
	}
	data := string(s.doc[s.pos : s.pos+end])
	s.pos += end + 2
	s.tag = xmlName{local: string(target)}
	if s.tag.local == "xml" {
		if v := procInstParam("version", data); v != "" && v != "1.0" {
			return 0, s.syntax(fmt.Sprintf("unsupported version %q; only version 1.0 is supported", v))
		}
		if enc := procInstParam("encoding", data); enc != "" && !strings.EqualFold(enc, "utf-8") {
			return 0, s.syntax(fmt.Sprintf("encoding %q declared; only UTF-8 is read", enc))
		}
	}
	return tokProcInst, nil
}

// procInstParam finds param="value" (or with single quotes) in a
// processing instruction's data the way encoding/xml does: the first
// param= followed by a quote, the value up to the same quote.
func procInstParam(param, data string) string {
	key := param + "="
	for i := 0; i < len(data); {
		k := strings.Index(data[i:], key)
		if k < 0 || i+k+len(key) >= len(data) {
			return ""
		}
		q := data[i+k+len(key)]
		i += k + len(key) + 1
		if q == '\'' || q == '"' {
			if j := strings.IndexByte(data[i:], q); j >= 0 {
				return data[i : i+j]
			}
			return ""
		}
	}
	return ""
}

// bang reads what starts with <!: a comment, a CDATA section, or a
// directive (DOCTYPE, ENTITY, ...). A comment or a directive is read to
// its end only to tell a refused construct from a truncated document, as
// encoding/xml does.
func (s *xmlScanner) bang() (xmlToken, error) {
	c, err := s.mustByte()
	if err != nil {
		return 0, err
	}
	switch c {
	case '-':
		if c, err := s.mustByte(); err != nil || c != '-' {
			return 0, cmp.Or(err, s.syntax("invalid sequence <!- not part of <!--"))
		}
		end := bytes.Index(s.doc[s.pos:], []byte("--"))
		if end < 0 || s.pos+end+2 >= len(s.doc) {
			return 0, s.eof()
		}
		s.pos += end + 2
		if s.doc[s.pos] != '>' {
			return 0, s.syntax(`invalid sequence "--" not allowed in comments`)
		}
		s.pos++
		return tokComment, nil
	case '[':
		for i := range len("CDATA[") {
			if c, err := s.mustByte(); err != nil || c != "CDATA["[i] {
				return 0, cmp.Or(err, s.syntax("invalid <![ sequence"))
			}
		}
		text, err := s.chars(0, true)
		s.text = text
		return tokText, err
	}
	start := s.pos - 1
	if err := s.skipDirective(); err != nil {
		return 0, err
	}
	s.text = s.doc[start : s.pos-1]
	return tokDirective, nil
}

// skipDirective moves past a directive's closing '>': the first one
// outside quotes that closes no inner '<', comments inside skipped whole.
// Like encoding/xml, it does not look at the directive's first byte.
func (s *xmlScanner) skipDirective() error {
	var quote byte
	depth := 0
	for {
		c, err := s.mustByte()
		if err != nil {
			return err
		}
		if quote == 0 && c == '>' && depth == 0 {
			return nil
		}
	handle: // c again: the byte that ended a '<' which did not open a comment
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			for i := range len("!--") {
				if c, err = s.mustByte(); err != nil {
					return err
				}
				if c != "!--"[i] {
					depth++
					goto handle
				}
			}
			end := bytes.Index(s.doc[s.pos:], []byte("-->"))
			if end < 0 {
				return s.eof()
			}
			s.pos += end + 3
		}
	}
}

// chars reads character data and returns it decoded: entities replaced,
// line ends normalised to \n, every character checked. Text (quote 0)
// ends before the next '<' or at the end of the document; an attribute
// value after its closing quote; a CDATA section (cdata) after its "]]>",
// and only its line ends are decoded.
func (s *xmlScanner) chars(quote byte, cdata bool) ([]byte, error) {
	start := s.pos
	if !cdata {
		end := plainRun(s.doc, start, quote)
		switch {
		case quote == 0 && (end == len(s.doc) || s.doc[end] == '<'):
			s.pos = end
			return s.doc[start:end], nil
		case quote != 0 && end < len(s.doc) && s.doc[end] == quote:
			s.pos = end + 1
			return s.doc[start:end], nil
		}
	}
	s.buf = s.buf[:0]
	var b0, b1 byte // the two bytes read before c, to see "]]>"
	trunc := 0
	for {
		if s.pos >= len(s.doc) {
			if cdata || quote != 0 {
				return nil, s.eof()
			}
			break
		}
		c := s.doc[s.pos]
		s.pos++
		if quote == 0 && b0 == ']' && b1 == ']' && c == '>' {
			if !cdata {
				return nil, s.syntax("unescaped ]]> not in CDATA section")
			}
			trunc = 2
			break
		}
		if c == '<' && !cdata {
			if quote != 0 {
				return nil, s.syntax("unescaped < inside quoted string")
			}
			s.pos--
			break
		}
		if quote != 0 && c == quote {
			break
		}
		if c == '&' && !cdata {
			if err := s.entity(); err != nil {
				return nil, err
			}
			b0, b1 = 0, 0
			continue
		}
		switch {
		case c == '\r':
			s.buf = append(s.buf, '\n')
		case b1 == '\r' && c == '\n':
		default:
			s.buf = append(s.buf, c)
		}
		b0, b1 = b1, c
	}
	data := s.buf[:len(s.buf)-trunc]
	for i := 0; i < len(data); {
		r, size := rune(data[i]), 1
		if r >= utf8.RuneSelf {
			if r, size = utf8.DecodeRune(data[i:]); r == utf8.RuneError && size == 1 {
				return nil, s.syntax("invalid UTF-8")
			}
		}
		if !isXMLChar(r) {
			return nil, s.syntax(fmt.Sprintf("illegal character code %U", r))
		}
		i += size
	}
	return data, nil
}

// plainRun returns where the run of bytes from start that needs no
// decoding ends: at a markup or entity character, a line end to
// normalise, a ']' (of a "]]>"), the quote, or a character that is not
// allowed (the decoding path reports it).
func plainRun(doc []byte, start int, quote byte) int {
	for i := start; i < len(doc); {
		c := doc[i]
		switch {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(doc[i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return i
			}
			i += size
			continue
		case c < ' ' && c != '\t' && c != '\n', c == '<', c == '&', c == '\r', c == ']', c == quote:
			return i
		}
		i++
	}
	return len(doc)
}

// entity appends the character of the reference after an '&': one of the
// five predefined entities, or a decimal or hexadecimal character
// reference. A document cannot declare others (no DTD is accepted).
func (s *xmlScanner) entity() error {
	c, err := s.mustByte()
	if err != nil {
		return err
	}
	start := s.pos - 1
	if c != '#' {
		s.pos--
		name, err := s.readName()
		if err != nil {
			return err
		}
		if c, err := s.mustByte(); err != nil || c != ';' {
			return cmp.Or(err, s.syntax("invalid character entity &"+string(name)+" (no semicolon)"))
		}
		r, ok := predefinedEntities[string(name)]
		if !ok {
			return s.syntax("invalid character entity &" + string(name) + ";")
		}
		s.buf = append(s.buf, r)
		return nil
	}
	if c, err = s.mustByte(); err != nil {
		return err
	}
	base := 10
	if c == 'x' {
		base = 16
		if c, err = s.mustByte(); err != nil {
			return err
		}
	}
	digits := s.pos - 1
	for '0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
		if c, err = s.mustByte(); err != nil {
			return err
		}
	}
	n, perr := strconv.ParseUint(string(s.doc[digits:s.pos-1]), base, 64)
	if c != ';' || perr != nil || n > unicode.MaxRune {
		return s.syntax("invalid character entity &" + string(s.doc[start:s.pos]))
	}
	// A surrogate becomes U+FFFD, as string(rune(n)) makes it.
	s.buf = utf8.AppendRune(s.buf, rune(n))
	return nil
}

var predefinedEntities = map[string]byte{"lt": '<', "gt": '>', "amp": '&', "apos": '\'', "quot": '"'}

// readName reads the bytes of a name: up to the first ASCII byte that
// cannot be in one (every non-ASCII byte is taken, and refused by name).
// It returns nothing, and no error, when no name starts here.
func (s *xmlScanner) readName() ([]byte, error) {
	start := s.pos
	for ; s.pos < len(s.doc); s.pos++ {
		if c := s.doc[s.pos]; c < utf8.RuneSelf && !isNameByte(c) {
			return s.doc[start:s.pos], nil
		}
	}
	return nil, s.eof()
}

// name reads a name; missing is the error when there is none.
func (s *xmlScanner) name(missing string) ([]byte, error) {
	b, err := s.readName()
	switch {
	case err != nil:
		return nil, err
	case len(b) == 0:
		return nil, s.syntax(missing)
	}
	for i, c := range b {
		switch {
		case c >= utf8.RuneSelf:
			return nil, errNonASCIIName
		case i == 0 && !isNameStart(c):
			return nil, s.syntax("invalid XML name: " + string(b))
		}
	}
	return b, nil
}

// nsName reads a name and splits it at its colon. A name with two colons
// is no name; one with a colon at either end is all local name.
func (s *xmlScanner) nsName(missing string) (xmlName, error) {
	b, err := s.name(missing)
	if err != nil {
		return xmlName{}, err
	}
	i := bytes.IndexByte(b, ':')
	switch {
	case i < 0:
		return xmlName{local: internName(b)}, nil
	case bytes.IndexByte(b[i+1:], ':') >= 0:
		return xmlName{}, s.syntax(missing)
	case i == 0 || i == len(b)-1:
		return xmlName{local: internName(b)}, nil
	}
	return xmlName{space: internName(b[:i]), local: internName(b[i+1:])}, nil
}

func (s *xmlScanner) space() {
	for s.pos < len(s.doc) {
		switch s.doc[s.pos] {
		case ' ', '\r', '\n', '\t':
			s.pos++
		default:
			return
		}
	}
}

func (s *xmlScanner) mustByte() (byte, error) {
	if s.pos >= len(s.doc) {
		return 0, s.eof()
	}
	s.pos++
	return s.doc[s.pos-1], nil
}

func (s *xmlScanner) eof() error { return s.syntax("unexpected EOF") }

func (s *xmlScanner) syntax(msg string) error {
	return fmt.Errorf("not well-formed XML: %s (byte %d)", msg, s.pos)
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

func isNameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
}

// isXMLChar is XML 1.0's Char production.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= unicode.MaxRune
}

// internName returns the names of SAML and XML-DSig documents without a
// copy: they make up most of a response's names.
func internName(b []byte) string {
	if s, ok := samlNames[string(b)]; ok {
		return s
	}
	return string(b)
}

var samlNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range strings.Fields(`
		xmlns saml samlp saml2 saml2p ds xs xsi ec xenc
		Response Assertion EncryptedAssertion Issuer Status StatusCode StatusMessage
		Subject NameID SubjectConfirmation SubjectConfirmationData Conditions
		AudienceRestriction Audience AuthnStatement AuthnContext AuthnContextClassRef
		AttributeStatement Attribute AttributeValue
		Signature SignedInfo CanonicalizationMethod SignatureMethod Reference Transforms
		Transform DigestMethod DigestValue SignatureValue KeyInfo X509Data X509Certificate
		InclusiveNamespaces PrefixList
		ID Version IssueInstant Destination InResponseTo Consent Algorithm URI Value Format
		Method NotBefore NotOnOrAfter Recipient Address AuthnInstant SessionIndex
		SessionNotOnOrAfter Name NameFormat FriendlyName NameQualifier SPNameQualifier type`) {
		m[n] = n
	}
	return m
}()
