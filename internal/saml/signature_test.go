package saml

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// The verifier refuses a signed response changed after signing, in the
// signed content or in the SignedInfo, one whose KeyInfo names another
// certificate, and signatures outside SIG-2; and accepts the signatures
// real IdPs make: on the Assertion, on the Response, on both, with an
// InclusiveNamespaces prefix list.
func TestVerifySignatureCases(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	up := e.b.upstream.get()
	attacker := keys(t)[2]
	signedAsrt := func(t *testing.T, r upstreamResponse) (*etree.Element, *etree.Element) {
		resp := r.element(t)
		return resp, resp.FindElement("./Assertion")
	}
	tests := []struct {
		name   string
		change func(t *testing.T, r *upstreamResponse) []byte
		reason string // "" when accepted
	}{
		{name: "as signed", change: func(t *testing.T, r *upstreamResponse) []byte { return r.xml(t) }},
		{name: "response and assertion signed", change: func(t *testing.T, r *upstreamResponse) []byte {
			r.signResponse = true
			return r.xml(t)
		}},
		{name: "response signed only", change: func(t *testing.T, r *upstreamResponse) []byte {
			r.signResponse, r.signAssertion = true, false
			return r.xml(t)
		}},
		{name: "NameID changed after signing", reason: reasonSignature, change: func(t *testing.T, r *upstreamResponse) []byte {
			return []byte(strings.Replace(string(r.xml(t)), "alice@example.com", "mallory@example.com", 1))
		}},
		{name: "attribute added after signing", reason: reasonSignature, change: func(t *testing.T, r *upstreamResponse) []byte {
			resp, a := signedAsrt(t, *r)
			a.FindElement("./Conditions").CreateAttr("Extra", "1")
			return serialize(t, resp)
		}},
		{name: "DigestValue changed", reason: reasonSignature, change: func(t *testing.T, r *upstreamResponse) []byte {
			resp, a := signedAsrt(t, *r)
			a.FindElement("./Signature/SignedInfo/Reference/DigestValue").SetText(base64.StdEncoding.EncodeToString(make([]byte, 32)))
			return serialize(t, resp)
		}},
		{name: "KeyInfo with the attacker's certificate", reason: reasonSignature, change: func(t *testing.T, r *upstreamResponse) []byte {
			resp, a := signedAsrt(t, *r)
			a.FindElement("./Signature/KeyInfo/X509Data/X509Certificate").SetText(base64.StdEncoding.EncodeToString(attacker.cert.Raw))
			return serialize(t, resp)
		}},
		{name: "no KeyInfo, one trusted certificate", change: func(t *testing.T, r *upstreamResponse) []byte {
			resp, a := signedAsrt(t, *r)
			sig := a.FindElement("./Signature")
			sig.RemoveChild(sig.FindElement("./KeyInfo"))
			return serialize(t, resp)
		}},
		{name: "the transforms left out", reason: reasonSignature, change: func(t *testing.T, r *upstreamResponse) []byte {
			resp, a := signedAsrt(t, *r)
			ref := a.FindElement("./Signature/SignedInfo/Reference")
			ref.RemoveChild(ref.FindElement("./Transforms"))
			return serialize(t, resp)
		}},
		{name: "two SignatureValues", reason: reasonSignature, change: func(t *testing.T, r *upstreamResponse) []byte {
			resp, a := signedAsrt(t, *r)
			sig := a.FindElement("./Signature")
			sig.AddChild(sig.FindElement("./SignatureValue").Copy())
			return serialize(t, resp)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.validResponse("alice@example.com", t0)
			_, err := e.b.verifier.verify(tc.change(t, &r), up, expectation{now: t0})
			_, reason, _ := classify(err)
			switch {
			case tc.reason == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.reason != "" && reason != tc.reason:
				t.Fatalf("got %v, want a %s refusal", err, tc.reason)
			}
		})
	}
}

// An IdP that signs with an InclusiveNamespaces prefix list, and declares
// the namespace of xsi:type values on the Response, outside the signed
// Assertion, is verified: the list brings the declaration into the
// canonical form.
func TestVerifyInclusiveNamespaces(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	r := e.validResponse("alice@example.com", t0)
	r.signAssertion = false
	resp := r.element(t)
	resp.CreateAttr("xmlns:xs", "http://www.w3.org/2001/XMLSchema")
	resp.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
	a := resp.FindElement("./Assertion")
	st := a.CreateElement("saml:AttributeStatement")
	at := st.CreateElement("saml:Attribute")
	at.CreateAttr("Name", "email")
	v := at.CreateElement("saml:AttributeValue")
	v.CreateAttr("xsi:type", "xs:string")
	v.SetText("alice@example.com")
	// goxmldsig writes no InclusiveNamespaces, so the signature is put
	// together here, on goxmldsig's canonicalizers.
	signWithPrefixList(t, a, &e.idp, "xs")
	doc := serialize(t, resp)
	if !strings.Contains(string(doc), `PrefixList="xs"`) {
		t.Fatalf("no prefix list in\n%s", doc)
	}
	got, err := e.b.verifier.verify(doc, e.b.upstream.get(), expectation{now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if vals := got.attributes["email"]; len(vals) != 1 || vals[0] != "alice@example.com" {
		t.Errorf("attributes %v", got.attributes)
	}
}

// signWithPrefixList signs el (enveloped, RSA-SHA256) with an exclusive
// c14n transform that carries an InclusiveNamespaces PrefixList.
func signWithPrefixList(t *testing.T, el *etree.Element, k *testKey, prefixList string) {
	t.Helper()
	det, err := detach(el)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList).Canonicalize(det)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(canon)
	si := etree.NewElement("ds:SignedInfo")
	si.CreateAttr("xmlns:ds", nsDSig)
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", excC14N)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", dsig.RSASHA256SignatureMethod)
	ref := si.CreateElement("ds:Reference")
	ref.CreateAttr("URI", "#"+el.SelectAttrValue("ID", ""))
	ts := ref.CreateElement("ds:Transforms")
	ts.CreateElement("ds:Transform").CreateAttr("Algorithm", envelopedSig)
	exc := ts.CreateElement("ds:Transform")
	exc.CreateAttr("Algorithm", excC14N)
	in := exc.CreateElement("ec:InclusiveNamespaces")
	in.CreateAttr("xmlns:ec", nsExcC14n)
	in.CreateAttr("PrefixList", prefixList)
	ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", digestSHA256URI)
	ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(digest[:]))
	siCanon, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(si.Copy())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(siCanon)
	value, err := rsa.SignPKCS1v15(nil, k.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", nsDSig)
	sig.AddChild(si)
	sig.CreateElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
	sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(k.cert.Raw))
	el.InsertChildAt(1, sig)
}
