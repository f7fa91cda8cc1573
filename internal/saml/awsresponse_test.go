package saml

import (
	"crypto/x509"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// referenceResponse is how the bridge built the Response for AWS before it
// wrote the bytes itself: an etree tree, signed by goxmldsig (exclusive
// c14n, RSA-SHA256), serialised by etree. awsDoc.build must give the same
// bytes.
func referenceResponse(t *testing.T, k *signingKey, d *awsDoc, signResponse bool) []byte {
	t.Helper()
	sc := signingContext(t, k.key, k.cert)

	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("ID", d.asrtID)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", d.issueInstant)
	a.CreateElement("saml:Issuer").SetText(d.issuer)
	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", nameIDPersistent)
	nid.SetText(d.nameID)
	sc2 := subj.CreateElement("saml:SubjectConfirmation")
	sc2.CreateAttr("Method", bearer)
	scd := sc2.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", d.until)
	scd.CreateAttr("Recipient", d.destination)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", d.notBefore)
	cond.CreateAttr("NotOnOrAfter", d.until)
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(awsAudience)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", d.issueInstant)
	as.CreateAttr("SessionIndex", d.asrtID)
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(authnUnspecified)
	st := a.CreateElement("saml:AttributeStatement")
	for _, attr := range d.attrs {
		el := st.CreateElement("saml:Attribute")
		el.CreateAttr("Name", attr.name)
		el.CreateAttr("NameFormat", attrNameFormat)
		for _, v := range attr.values {
			el.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	sig, err := sc.ConstructSignature(a, true)
	if err != nil {
		t.Fatal(err)
	}
	a.InsertChildAt(1, sig)

	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("xmlns:saml", nsAssertion)
	resp.CreateAttr("ID", d.respID)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", d.issueInstant)
	resp.CreateAttr("Destination", d.destination)
	resp.CreateElement("saml:Issuer").SetText(d.issuer)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)
	resp.AddChild(a)
	if signResponse {
		sig, err := sc.ConstructSignature(resp, true)
		if err != nil {
			t.Fatal(err)
		}
		resp.InsertChildAt(1, sig)
	}
	return serialize(t, resp)
}

// testDocs are responses to build: the usual one, and ones whose values
// need escaping, are not ASCII, or are empty.
func testDocs() []*awsDoc {
	base := func() *awsDoc {
		return &awsDoc{
			respID: "_0123456789abcdef0123456789abcdef", asrtID: "_fedcba9876543210fedcba9876543210",
			issueInstant: "2030-06-01T12:00:00Z", notBefore: "2030-06-01T11:59:00Z", until: "2030-06-01T12:05:00Z",
			issuer: "https://bridge.example.com/saml/idp/metadata", destination: "https://signin.aws.amazon.com/saml",
			nameID: "3f1c6f0e-8d3b-4f7a-9a51-0b6f0f1f2e3d",
			attrs: []awsAttribute{
				{attrRole, []string{"arn:aws:iam::111122223333:role/r,arn:aws:iam::111122223333:saml-provider/p"}},
				{attrRoleSessionName, []string{"alice"}},
				{attrSessionDuration, []string{"28800"}},
				{attrPrincipalTag + "team", []string{"research"}},
				{attrTransitiveKeys, []string{"team", "userId"}},
			},
		}
	}
	special := base()
	special.nameID = `a&b<c>d'e"f]]>g`
	special.issuer = `https://bridge.example.com/?a=1&b=<2>&c='3'&d="4"`
	special.attrs[1].values = []string{"Zoë Ça va ✓ 𝄞"}
	special.attrs[3].values = []string{"R&D <lab> \"quoted\" 'single'"}
	empty := base()
	empty.nameID = ""
	empty.attrs = append(empty.attrs, awsAttribute{attrPrincipalTag + "empty", []string{""}}, awsAttribute{attrPrincipalTag + "none", nil})
	invalid := base()
	invalid.nameID = "bad\x01byte\xffhere\uFFFE"
	return []*awsDoc{base(), special, empty, invalid}
}

// The bytes are those of the etree and goxmldsig construction, for a
// signed assertion alone and with a signed Response.
func TestAWSResponseMatchesReference(t *testing.T) {
	k := goldenSigningKey(t)
	for i, d := range testDocs() {
		for _, signResp := range []bool{false, true} {
			t.Run(strconv.Itoa(i)+"/signResponse="+strconv.FormatBool(signResp), func(t *testing.T) {
				got, err := d.build(k, signResp, nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := referenceResponse(t, k, d, signResp); string(got) != string(want) {
					t.Errorf("bytes differ\n got %s\nwant %s", got, want)
				}
				verifyOwnResponse(t, k.cert, got, d, signResp)
			})
		}
	}
}

// Tabs, newlines and carriage returns are where the bridge writes other
// bytes than etree did: character references, which a reader does not
// normalise away, so the signatures still verify after parsing.
func TestAWSResponseLineEnds(t *testing.T) {
	k := goldenSigningKey(t)
	d := testDocs()[0]
	d.nameID = "line\none\r\ntwo\tthree\r"
	d.destination = "https://signin.aws.amazon.com/\tx\ny\rz"
	rawInAttr := regexp.MustCompile(`="[^"]*[\t\n\r]`)
	for _, signResp := range []bool{false, true} {
		got, err := d.build(k, signResp, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), "\r") || rawInAttr.Match(got) {
			t.Errorf("a raw carriage return, or a raw tab or newline in an attribute:\n%q", got)
		}
		verifyOwnResponse(t, k.cert, got, d, signResp)
	}
}

// verifyOwnResponse parses a built response and verifies its signatures
// as a relying party would, with goxmldsig and with xmlsec1.
func verifyOwnResponse(t *testing.T, cert *x509.Certificate, raw []byte, d *awsDoc, signResp bool) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	vc.IdAttribute = "ID"
	vc.Clock = dsig.NewFakeClockAt(t0)
	resp := doc.Root()
	asrt := resp.FindElement("./Assertion")
	signed, err := vc.Validate(asrt)
	if err != nil {
		t.Fatalf("assertion signature: %v\n%s", err, raw)
	}
	if got := signed.FindElement("./Subject/NameID"); got == nil || got.Text() != d.nameIDAsRead() {
		t.Errorf("signed NameID %q, want %q", got.Text(), d.nameIDAsRead())
	}
	if signResp {
		if _, err := vc.Validate(resp); err != nil {
			t.Fatalf("response signature: %v\n%s", err, raw)
		}
	}
	// And with an implementation other than goxmldsig.
	xmlsec := requireXMLSec(t)
	xmlsecVerify(t, xmlsec, raw, cert, d.asrtID)
	if signResp {
		xmlsecVerify(t, xmlsec, raw, cert, d.respID)
	}
}

// nameIDAsRead is the NameID a reader gets back: characters XML cannot
// carry become U+FFFD, and line ends are normalised.
func (d *awsDoc) nameIDAsRead() string {
	x := &xmlOut{}
	x.text(d.nameID)
	s := strings.NewReplacer("&#xD;", "\r", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&apos;", "'", "&quot;", `"`).Replace(string(x.b))
	return s
}

// goldenSigningKey is the committed test key as a signing key.
func goldenSigningKey(t *testing.T) *signingKey {
	t.Helper()
	k, err := keyFromFiles("golden", "testdata/golden-idp.key", "testdata/golden-idp.crt", t0)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
