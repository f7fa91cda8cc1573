package saml

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"text/template"
	"time"
)

// Responses in the shapes Microsoft Entra ID and Okta send, signed by
// xmlsec1 rather than by goxmldsig, go through the ACS: the tokenizer,
// the exclusive c14n (default namespaces; Okta's InclusiveNamespaces
// "xs", which an xsi:type value needs) and the signature checks meet
// documents no Go code wrote. Signature templates have empty digest and
// signature values for xmlsec1 to fill in.
func TestIdPShapesSignedByXMLSec(t *testing.T) {
	xmlsec := requireXMLSec(t)
	for _, tt := range []struct {
		name string
		tmpl string
		// sign lists the IDs whose signatures xmlsec1 fills in, innermost
		// first: a Response signature covers the signed Assertion.
		sign []string
	}{
		{"entra", entraShape, []string{"_asrt"}},
		{"okta", oktaShape, []string{"_asrt", "_resp"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{idpInit: true})
			e.provision("alice@example.com", "ML Research")
			doc := renderShape(t, e, tt.tmpl)
			for _, id := range tt.sign {
				doc = xmlsecSign(t, xmlsec, doc, e.idp, id)
			}
			// The check has teeth: a signed byte changed is refused.
			tampered := bytes.Replace(doc, []byte("ac:classes:Password"), []byte("ac:classes:Kerberos"), 1)
			if resp := e.postBody(acsPath, acsForm(tampered)); resp.StatusCode != http.StatusForbidden || e.signins(resultRefused, reasonSignature) != 1 {
				t.Fatalf("a tampered %s response: %s, signature refusals %v", tt.name, resp.Status, e.signins(resultRefused, reasonSignature))
			}
			a := readAWSAnswer(t, e.postBody(acsPath, acsForm(doc)))
			if got := a.asrt.FindElement("./AttributeStatement/Attribute[@Name='" + attrSourceIdentity + "']/AttributeValue"); got == nil || got.Text() != "alice" {
				t.Errorf("the AWS assertion's SourceIdentity is %v, want alice", got)
			}
		})
	}
}

func renderShape(t testing.TB, e *env, tmpl string) []byte {
	t.Helper()
	ts := func(d time.Duration) string { return t0.Add(d).UTC().Format("2006-01-02T15:04:05.000Z") }
	var b bytes.Buffer
	err := template.Must(template.New("shape").Parse(tmpl)).Execute(&b, map[string]string{
		"Issued": ts(0), "NotBefore": ts(-5 * time.Minute), "Until": ts(time.Hour),
		"Dest": e.b.verifier.acsURL, "Audience": e.b.cfg.SPEntityID(), "Issuer": idpEntity,
		"NameID": "alice@example.com", "Cert": base64.StdEncoding.EncodeToString(e.idp.cert.Raw),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// xmlsecSign fills in the signature of the element with the given ID.
func xmlsecSign(t *testing.T, bin string, doc []byte, k testKey, id string) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.xml"), filepath.Join(dir, "out.xml")
	keyFile, _ := writePEM(t, dir, "idp", k)
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--sign", "--privkey-pem", keyFile,
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--node-xpath", "//*[@ID='"+id+"']/*[local-name()='Signature']",
		"--enabled-reference-uris", "same-doc", "--output", out, in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign #%s: %v\n%s", id, err, msg)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// entraShape is a Response as Entra ID sends it: unprefixed SAML and
// XML-DSig elements under default namespaces, only the Assertion signed,
// claims as URIs.
const entraShape = `<samlp:Response ID="_resp" Version="2.0" IssueInstant="{{.Issued}}" Destination="{{.Dest}}" xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` +
	`<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">{{.Issuer}}</Issuer>` +
	`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
	`<Assertion ID="_asrt" IssueInstant="{{.Issued}}" Version="2.0" xmlns="urn:oasis:names:tc:SAML:2.0:assertion">` +
	`<Issuer>{{.Issuer}}</Issuer>` +
	`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>` +
	`<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
	`<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
	`<Reference URI="#_asrt"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
	`<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>` +
	`<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue></DigestValue></Reference></SignedInfo>` +
	`<SignatureValue></SignatureValue><KeyInfo><X509Data><X509Certificate>{{.Cert}}</X509Certificate></X509Data></KeyInfo></Signature>` +
	`<Subject><NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{{.NameID}}</NameID>` +
	`<SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><SubjectConfirmationData NotOnOrAfter="{{.Until}}" Recipient="{{.Dest}}"/></SubjectConfirmation></Subject>` +
	`<Conditions NotBefore="{{.NotBefore}}" NotOnOrAfter="{{.Until}}"><AudienceRestriction><Audience>{{.Audience}}</Audience></AudienceRestriction></Conditions>` +
	`<AttributeStatement><Attribute Name="http://schemas.microsoft.com/identity/claims/tenantid"><AttributeValue>72f988bf-86f1-41af-91ab-2d7cd011db47</AttributeValue></Attribute>` +
	`<Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"><AttributeValue>{{.NameID}}</AttributeValue></Attribute></AttributeStatement>` +
	`<AuthnStatement AuthnInstant="{{.Issued}}" SessionIndex="_asrt"><AuthnContext><AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</AuthnContextClassRef></AuthnContext></AuthnStatement>` +
	`</Assertion></samlp:Response>`

// oktaShape is a Response as Okta sends it: saml2 and ds prefixes, the
// Response and the Assertion signed, the xs prefix of xsi:type values in
// the c14n's InclusiveNamespaces, an XML declaration.
var oktaShape = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<saml2p:Response Destination="{{.Dest}}" ID="_resp" IssueInstant="{{.Issued}}" Version="2.0" xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:xs="http://www.w3.org/2001/XMLSchema">` +
	`<saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">{{.Issuer}}</saml2:Issuer>` +
	oktaSignature("_resp") +
	`<saml2p:Status xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol"><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>` +
	`<saml2:Assertion ID="_asrt" IssueInstant="{{.Issued}}" Version="2.0" xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema">` +
	`<saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{{.Issuer}}</saml2:Issuer>` +
	oktaSignature("_asrt") +
	`<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">{{.NameID}}</saml2:NameID>` +
	`<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData NotOnOrAfter="{{.Until}}" Recipient="{{.Dest}}"/></saml2:SubjectConfirmation></saml2:Subject>` +
	`<saml2:Conditions NotBefore="{{.NotBefore}}" NotOnOrAfter="{{.Until}}"><saml2:AudienceRestriction><saml2:Audience>{{.Audience}}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>` +
	`<saml2:AuthnStatement AuthnInstant="{{.Issued}}" SessionIndex="_asrt"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
	`<saml2:AttributeStatement><saml2:Attribute Name="email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">` +
	`<saml2:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">{{.NameID}}</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement>` +
	`</saml2:Assertion></saml2p:Response>`

func oktaSignature(id string) string {
	return `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
		`<ds:Reference URI="#` + id + `"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
		`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces PrefixList="xs" xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transform></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{{.Cert}}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`
}
