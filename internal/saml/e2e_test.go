package saml

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	crewjamlog "github.com/crewjam/saml/logger"
)

// realIdP is crewjam's IdentityProvider, a SAML IdP implementation other
// than the bridge's verifier, signing in one fixed session.
type realIdP struct {
	idp     *crewjam.IdentityProvider
	session *crewjam.Session
	sp      *crewjam.EntityDescriptor
}

func (p *realIdP) GetSession(http.ResponseWriter, *http.Request, *crewjam.IdpAuthnRequest) *crewjam.Session {
	return p.session
}

func (p *realIdP) GetServiceProvider(_ *http.Request, id string) (*crewjam.EntityDescriptor, error) {
	if id != p.sp.EntityID {
		return nil, os.ErrNotExist
	}
	return p.sp, nil
}

// newRealIdP makes the upstream IdP of env e, and points e's bridge at
// its metadata.
func newRealIdP(t *testing.T, e *env, nameID string) *realIdP {
	t.Helper()
	md, _ := url.Parse(idpEntity)
	sso, _ := url.Parse(idpSSO)
	p := &realIdP{session: &crewjam.Session{ID: "s1", NameID: nameID, UserName: nameID}}
	p.idp = &crewjam.IdentityProvider{
		Key: e.idp.key, Signer: e.idp.key, Certificate: e.idp.cert,
		MetadataURL: *md, SSOURL: *sso,
		SessionProvider: p, ServiceProviderProvider: p,
		SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		Logger:          crewjamlog.DefaultLogger,
	}
	// The IdP learns the SP from the bridge's own SP metadata endpoint.
	resp, err := http.Get(e.base + spMetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	p.sp = &crewjam.EntityDescriptor{}
	if err := xml.Unmarshal([]byte(page(t, resp)), p.sp); err != nil {
		t.Fatalf("SP metadata: %v", err)
	}
	return p
}

// signInSPInitiated runs /saml/login -> IdP -> /saml/sp/acs and returns
// the bridge's answer to the ACS post.
func signInSPInitiated(t *testing.T, e *env, p *realIdP, relayState string) *http.Response {
	t.Helper()
	resp, err := noRedirect.Get(e.base + loginPath + "?RelayState=" + url.QueryEscape(relayState))
	if err != nil {
		t.Fatal(err)
	}
	page(t, resp)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/saml/login: %s", resp.Status)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, idpSSO+"?") {
		t.Fatalf("/saml/login redirects to %q, want the IdP's SSO URL", loc)
	}
	rec := httptest.NewRecorder()
	p.idp.ServeSSO(rec, httptest.NewRequest(http.MethodGet, loc, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("IdP SSO: %d %s", rec.Code, rec.Body)
	}
	action, fields := formFields(t, rec.Body.String())
	if action != e.base+acsPath {
		t.Fatalf("IdP posts to %q, want the bridge's ACS", action)
	}
	return e.post(acsPath, fields, resp.Cookies()...)
}

// requireXMLSec returns the xmlsec1 binary; its absence fails the test,
// because the second implementation is what the acceptance asks for.
func requireXMLSec(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Fatal("xmlsec1 is not installed: the end-to-end test verifies the bridge's signatures with it. " +
			"`.ci/run` installs it (Debian package xmlsec1): apt-get install xmlsec1")
	}
	return p
}

// xmlsecVerify verifies the signature on the element with the given ID
// with xmlsec1 against the certificate, and fails the test otherwise.
func xmlsecVerify(t *testing.T, bin string, doc []byte, cert *x509.Certificate, id string) {
	t.Helper()
	if out, err := runXMLSec(t, bin, doc, cert, id); err != nil {
		t.Fatalf("xmlsec1 --verify of #%s: %v\n%s", id, err, out)
	}
}

func runXMLSec(t *testing.T, bin string, doc []byte, cert *x509.Certificate, id string) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	docFile, certFile := filepath.Join(dir, "response.xml"), filepath.Join(dir, "idp.crt")
	if err := os.WriteFile(docFile, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--verify", "--pubkey-cert-pem", certFile,
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--node-xpath", "//*[@ID='"+id+"']/*[local-name()='Signature']",
		"--enabled-reference-uris", "same-doc", docFile).CombinedOutput()
	return out, err
}

// awsAnswer is the bridge's post to AWS, taken apart.
type awsAnswer struct {
	action, relayState, encoded string
	raw                         []byte
	resp, asrt                  *etree.Element
}

func readAWSAnswer(t *testing.T, resp *http.Response) awsAnswer {
	t.Helper()
	body := page(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ACS: %s\n%s", resp.Status, body)
	}
	action, fields := formFields(t, body)
	a := awsAnswer{action: action, relayState: fields.Get("RelayState"), encoded: fields.Get("SAMLResponse")}
	var err error
	if a.raw, err = base64.StdEncoding.DecodeString(a.encoded); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(a.raw); err != nil {
		t.Fatal(err)
	}
	a.resp = doc.Root()
	if a.asrt = a.resp.FindElement("./Assertion"); a.asrt == nil {
		t.Fatalf("no Assertion in\n%s", a.raw)
	}
	return a
}

func TestEndToEndSPInitiated(t *testing.T) {
	xmlsec := requireXMLSec(t)
	for _, signResp := range []bool{false, true} {
		t.Run("signResponse="+strconv.FormatBool(signResp), func(t *testing.T) {
			// crewjam's IdP reads the real clock, so the bridge does too.
			e := newEnv(t, envOptions{signResp: signResp, now: time.Now})
			userID := e.provision("alice@example.com", "ML Research")
			p := newRealIdP(t, e, "Alice@Example.com") // lookups fold case
			before := time.Now()
			a := readAWSAnswer(t, signInSPInitiated(t, e, p, "https://console.aws.amazon.com/sagemaker/home"))
			after := time.Now()

			xmlsecVerify(t, xmlsec, a.raw, keys(t)[1].cert, a.asrt.SelectAttrValue("ID", ""))
			// The check has teeth: a changed role fails it.
			tampered := []byte(strings.Replace(string(a.raw), "sagebridge-research", "sagebridge-platform", 1))
			if _, err := runXMLSec(t, xmlsec, tampered, keys(t)[1].cert, a.asrt.SelectAttrValue("ID", "")); err == nil {
				t.Fatal("xmlsec1 accepted a tampered assertion")
			}
			if signResp {
				xmlsecVerify(t, xmlsec, a.raw, keys(t)[1].cert, a.resp.SelectAttrValue("ID", ""))
			} else if a.resp.FindElement("./Signature") != nil {
				t.Error("the Response is signed although signResponse is off")
			}
			md, err := e.b.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			checkAWSRules(t, a, awsExpect{
				destination: "https://signin.aws.amazon.com/saml",
				relayState:  "https://console.aws.amazon.com/sagemaker/home",
				issuer:      e.b.cfg.IdPEntityID(),
				nameID:      userID,
				role:        "arn:aws:iam::111122223333:role/sagebridge/sagebridge-research,arn:aws:iam::111122223333:saml-provider/sagebridge",
				sessionName: "alice",
				duration:    8 * time.Hour,
				maxDuration: 12 * time.Hour,
				tags:        map[string]string{"userId": "alice", "team": "research"},
				transitive:  []string{"team", "userId"},
				before:      before, after: after,
				metadata: md,
			})
			if got := e.signins(resultIssued, reasonNone); got != 1 {
				t.Errorf("signins_total{issued} = %v, want 1", got)
			}
			audits := e.logs.audits(t)
			if len(audits) != 1 || audits[0]["result"] != resultIssued || audits[0]["flow"] != "sp" || audits[0]["user_id"] != userID {
				t.Errorf("audit records = %v", audits)
			}
		})
	}
}
