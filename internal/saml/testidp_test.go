package saml

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// upstreamResponse describes a Response the test IdP makes.
type upstreamResponse struct {
	id, assertionID string
	issuer          string
	nameID          string
	audience        string
	destination     string
	recipient       string
	inResponseTo    string
	issued          time.Time
	notBefore       time.Time
	notOnOrAfter    time.Time
	attrs           map[string]string
	signAssertion   bool
	signResponse    bool
	signer          *testKey
}

// validResponse is a response the env must accept for nameID at time at.
func (e *env) validResponse(nameID string, at time.Time) upstreamResponse {
	return upstreamResponse{
		id: "_resp-" + randomHex(), assertionID: "_asrt-" + randomHex(),
		issuer: idpEntity, nameID: nameID, audience: e.b.cfg.SPEntityID(),
		destination: e.b.verifier.acsURL, recipient: e.b.verifier.acsURL,
		issued: at, notBefore: at.Add(-time.Minute), notOnOrAfter: at.Add(5 * time.Minute),
		signAssertion: true, signer: &e.idp,
	}
}

// shift moves every time of the response by d.
func (r *upstreamResponse) shift(d time.Duration) {
	r.issued, r.notBefore, r.notOnOrAfter = r.issued.Add(d), r.notBefore.Add(d), r.notOnOrAfter.Add(d)
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// element builds the Response and its Assertion, signed as asked.
func (r upstreamResponse) element(t testing.TB) *etree.Element {
	t.Helper()
	ts := func(x time.Time) string { return x.UTC().Format(time.RFC3339) }
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("ID", r.assertionID)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", ts(r.issued))
	a.CreateElement("saml:Issuer").SetText(r.issuer)
	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
	nid.SetText(r.nameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", bearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", ts(r.notOnOrAfter))
	scd.CreateAttr("Recipient", r.recipient)
	if r.inResponseTo != "" {
		scd.CreateAttr("InResponseTo", r.inResponseTo)
	}
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", ts(r.notBefore))
	cond.CreateAttr("NotOnOrAfter", ts(r.notOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(r.audience)
	if len(r.attrs) > 0 {
		st := a.CreateElement("saml:AttributeStatement")
		for k, v := range r.attrs {
			at := st.CreateElement("saml:Attribute")
			at.CreateAttr("Name", k)
			at.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	if r.signAssertion {
		sign(t, a, r.signer)
	}
	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("xmlns:saml", nsAssertion)
	resp.CreateAttr("ID", r.id)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", ts(r.issued))
	resp.CreateAttr("Destination", r.destination)
	if r.inResponseTo != "" {
		resp.CreateAttr("InResponseTo", r.inResponseTo)
	}
	resp.CreateElement("saml:Issuer").SetText(r.issuer)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)
	resp.AddChild(a)
	if r.signResponse {
		sign(t, resp, r.signer)
	}
	return resp
}

func (r upstreamResponse) xml(t testing.TB) []byte {
	t.Helper()
	return serialize(t, r.element(t))
}

func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sign puts an enveloped RSA-SHA256 exclusive-c14n signature right after
// el's Issuer, as IdPs do.
func sign(t testing.TB, el *etree.Element, k *testKey) {
	t.Helper()
	sig, err := signingContext(t, k.key, k.cert).ConstructSignature(el, true)
	if err != nil {
		t.Fatal(err)
	}
	el.InsertChildAt(1, sig)
}

// signingContext is goxmldsig's RSA-SHA256, exclusive c14n signer for key.
func signingContext(t testing.TB, key *rsa.PrivateKey, cert *x509.Certificate) *dsig.SigningContext {
	t.Helper()
	sc, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	sc.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	return sc
}
