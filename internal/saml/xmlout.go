package saml

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"

	dsig "github.com/russellhaering/goxmldsig"
)

// xmlOut writes XML the bridge composes itself. In canonical mode it
// writes exclusive c14n's form (XML-C14N 1.0 section 2.3, as goxmldsig's
// canonical write settings do): empty elements as a start and an end tag,
// text and attribute values escaped the canonical way. Otherwise it writes
// what etree writes by default: empty elements self-closed, and &, <, >,
// ' and " escaped as entities; and, where etree leaves them as they are,
// carriage returns, and tabs and newlines in attribute values, as
// character references, so that a reader's line-end and attribute-value
// normalisation cannot change what the signature covers. Namespace declarations and attribute order are
// the caller's: it writes them in canonical order where it matters.
type xmlOut struct {
	b         []byte
	canonical bool
}

func (x *xmlOut) start(name string) {
	x.b = append(x.b, '<')
	x.b = append(x.b, name...)
}

func (x *xmlOut) attr(name, value string) {
	x.b = append(x.b, ' ')
	x.b = append(x.b, name...)
	x.b = append(x.b, '=', '"')
	x.escape(value, true)
	x.b = append(x.b, '"')
}

// startName, attrName and endName take a name as prefix and local part.
func (x *xmlOut) startName(space, local string) {
	x.b = append(x.b, '<')
	x.name(space, local)
}

func (x *xmlOut) attrName(space, local, value string) {
	x.b = append(x.b, ' ')
	x.name(space, local)
	x.b = append(x.b, '=', '"')
	x.escape(value, true)
	x.b = append(x.b, '"')
}

func (x *xmlOut) endName(space, local string) {
	x.b = append(x.b, '<', '/')
	x.name(space, local)
	x.b = append(x.b, '>')
}

func (x *xmlOut) name(space, local string) {
	if space != "" {
		x.b = append(x.b, space...)
		x.b = append(x.b, ':')
	}
	x.b = append(x.b, local...)
}

// open writes a start tag with the attributes given as name, value pairs,
// for an element with content.
func (x *xmlOut) open(name string, attrs ...string) {
	x.start(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.attr(attrs[i], attrs[i+1])
	}
	x.endStart()
}

// empty writes an element without content, with the attributes given as
// name, value pairs.
func (x *xmlOut) empty(name string, attrs ...string) {
	x.start(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.attr(attrs[i], attrs[i+1])
	}
	x.endEmpty(name)
}

// endStart closes a start tag whose element has content.
func (x *xmlOut) endStart() { x.b = append(x.b, '>') }

// endEmpty closes the start tag of an element without content.
func (x *xmlOut) endEmpty(name string) {
	if !x.canonical {
		x.b = append(x.b, '/', '>')
		return
	}
	x.b = append(x.b, '>', '<', '/')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

func (x *xmlOut) end(name string) {
	x.b = append(x.b, '<', '/')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

func (x *xmlOut) text(s string) { x.escape(s, false) }

// body finishes an element started with start (and attr) whose content
// is the text s: an empty element when s is empty, as etree's SetText("").
func (x *xmlOut) body(name, s string) {
	if s == "" {
		x.endEmpty(name)
		return
	}
	x.endStart()
	x.text(s)
	x.end(name)
}

// leaf writes an element with no attributes and the text s.
func (x *xmlOut) leaf(name, s string) {
	x.start(name)
	x.body(name, s)
}

// escape appends s as text or as an attribute value. A character XML
// cannot carry becomes U+FFFD, as etree writes it.
func (x *xmlOut) escape(s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		switch {
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if !xmlChar(r) || r == utf8.RuneError && n == 1 {
				esc = "\uFFFD"
			}
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>' && (!attr || !x.canonical):
			esc = "&gt;"
		case c == '"' && (attr || !x.canonical):
			esc = "&quot;"
		case c == '\'' && !x.canonical:
			esc = "&apos;"
		case c == '\t' && attr:
			esc = "&#x9;"
		case c == '\n' && attr:
			esc = "&#xA;"
		case c == '\r':
			esc = "&#xD;"
		case c < 0x20 && c != '\t' && c != '\n':
			esc = "\uFFFD"
		}
		if esc != "" {
			x.b = append(x.b, s[last:i]...)
			x.b = append(x.b, esc...)
			last = i + width
		}
		i += width
	}
	x.b = append(x.b, s[last:]...)
}

// xmlChar reports whether XML 1.0 allows the character r (production 2).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// XML-DSig identifiers of the bridge's signatures (SIG-3): RSA-SHA256
// over exclusive c14n, enveloped.
const (
	excC14N         = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
	envelopedSig    = string(dsig.EnvelopedSignatureAltorithmId)
	digestSHA256URI = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// signature is an enveloped signature the bridge made: the ID it
// references, and the digest, signature value and certificate in base64.
type signature struct {
	refID, digest, value, cert string
}

// signature signs an element, given its ID and its exclusive canonical
// form without the signature: the SHA-256 digest of that form goes into a
// SignedInfo, whose own canonical form is signed with RSA PKCS #1 v1.5.
func (k *signingKey) signature(id string, canonical []byte) (*signature, error) {
	digest := sha256.Sum256(canonical)
	s := &signature{refID: id, digest: base64.StdEncoding.EncodeToString(digest[:]), cert: k.certBase64}
	// Alone, SignedInfo declares the ds namespace its Signature declares.
	var buf [1024]byte
	x := &xmlOut{b: buf[:0], canonical: true}
	s.signedInfo(x, true)
	sum := sha256.Sum256(x.b)
	raw, err := rsa.SignPKCS1v15(nil, k.key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, err
	}
	s.value = base64.StdEncoding.EncodeToString(raw)
	return s, nil
}

// write writes the ds:Signature element.
func (s *signature) write(x *xmlOut) {
	x.open("ds:Signature", "xmlns:ds", nsDSig)
	s.signedInfo(x, false)
	x.leaf("ds:SignatureValue", s.value)
	x.open("ds:KeyInfo")
	x.open("ds:X509Data")
	x.leaf("ds:X509Certificate", s.cert)
	x.end("ds:X509Data")
	x.end("ds:KeyInfo")
	x.end("ds:Signature")
}

func (s *signature) signedInfo(x *xmlOut, declareNS bool) {
	if declareNS {
		x.open("ds:SignedInfo", "xmlns:ds", nsDSig)
	} else {
		x.open("ds:SignedInfo")
	}
	x.empty("ds:CanonicalizationMethod", "Algorithm", excC14N)
	x.empty("ds:SignatureMethod", "Algorithm", dsig.RSASHA256SignatureMethod)
	x.open("ds:Reference", "URI", "#"+s.refID)
	x.open("ds:Transforms")
	x.empty("ds:Transform", "Algorithm", envelopedSig)
	x.empty("ds:Transform", "Algorithm", excC14N)
	x.end("ds:Transforms")
	x.empty("ds:DigestMethod", "Algorithm", digestSHA256URI)
	x.leaf("ds:DigestValue", s.digest)
	x.end("ds:Reference")
	x.end("ds:SignedInfo")
}
