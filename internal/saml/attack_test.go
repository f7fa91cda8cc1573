package saml

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// tweaked is a document builder: alice's valid response at t0, changed by
// fn before it is signed.
func tweaked(fn func(r *upstreamResponse)) func(t *testing.T, e *env) []byte {
	return func(t *testing.T, e *env) []byte {
		r := e.validResponse("alice@example.com", t0)
		fn(&r)
		return r.xml(t)
	}
}

// Every attack is refused: an error page with a reference, no response
// to AWS, the refusal counted under its reason and audited.
func TestAttacksAreRefused(t *testing.T) {
	ks := keys(t)
	attacker := ks[2]
	tests := []struct {
		name   string
		setup  func(e *env) // before the post, after alice is provisioned
		doc    func(t *testing.T, e *env) []byte
		body   func(e *env) string // raw form body instead of doc
		status int
		reason string
	}{
		{name: "unsigned response", status: http.StatusForbidden, reason: reasonSignature,
			doc: tweaked(func(r *upstreamResponse) { r.signAssertion = false })},
		{name: "signed by an unknown key", status: http.StatusForbidden, reason: reasonSignature,
			doc: tweaked(func(r *upstreamResponse) { r.signer = &attacker })},
		{name: "wrapping: an extra unsigned assertion", status: http.StatusForbidden, reason: reasonStructure,
			doc: func(t *testing.T, e *env) []byte {
				signed := e.validResponse("bob@example.com", t0).element(t)
				evil := e.validResponse("alice@example.com", t0)
				evil.signAssertion = false
				extra := evil.element(t).FindElement("./Assertion")
				signed.InsertChildAt(2, extra) // before the signed one
				return serialize(t, signed)
			}},
		{name: "wrapping: the signed assertion moved into an extension", status: http.StatusForbidden, reason: reasonStructure,
			doc: func(t *testing.T, e *env) []byte {
				signed := e.validResponse("bob@example.com", t0).element(t)
				orig := signed.FindElement("./Assertion")
				signed.RemoveChild(orig)
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(orig)
				signed.InsertChildAt(2, ext)
				evil := e.validResponse("alice@example.com", t0)
				evil.signAssertion = false
				evil.assertionID = orig.SelectAttrValue("ID", "") // same ID, so the Reference "matches"
				signed.AddChild(evil.element(t).FindElement("./Assertion"))
				return serialize(t, signed)
			}},
		{name: "another audience", status: http.StatusForbidden, reason: reasonAudience,
			doc: tweaked(func(r *upstreamResponse) { r.audience = "https://other-sp.example.com/metadata" })},
		{name: "expired", status: http.StatusForbidden, reason: reasonExpired,
			doc: tweaked(func(r *upstreamResponse) { r.shift(-10 * time.Minute) })},
		{name: "not yet valid", status: http.StatusForbidden, reason: reasonNotYetValid,
			doc: tweaked(func(r *upstreamResponse) { r.shift(10 * time.Minute) })},
		{name: "replayed valid response", status: http.StatusForbidden, reason: reasonReplay,
			doc: func(t *testing.T, e *env) []byte {
				doc := e.validResponse("alice@example.com", t0).xml(t)
				resp := e.acs(doc, "")
				if body := page(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "SAMLResponse") {
					t.Fatalf("first use refused: %s", resp.Status)
				}
				return doc
			}},
		{name: "comment inside the NameID", status: http.StatusBadRequest, reason: reasonForbiddenXML,
			doc: func(t *testing.T, e *env) []byte {
				// Signed for alice@example.com.evil; the comment is invisible
				// to exclusive c14n, so the signature still verifies.
				doc := string(e.validResponse("alice@example.com.evil", t0).xml(t))
				return []byte(strings.Replace(doc, "alice@example.com.evil", "alice@example.com<!---->.evil", 1))
			}},
		{name: "DOCTYPE with an entity", status: http.StatusBadRequest, reason: reasonForbiddenXML,
			doc: func(t *testing.T, e *env) []byte {
				doc := string(e.validResponse("alice@example.com", t0).xml(t))
				return []byte(`<!DOCTYPE r [<!ENTITY x "alice@example.com">]>` + doc)
			}},
		{name: "an element with thousands of attributes", status: http.StatusBadRequest, reason: reasonForbiddenXML,
			doc: func(t *testing.T, e *env) []byte {
				doc := string(e.validResponse("alice@example.com", t0).xml(t))
				return []byte(strings.Replace(doc, "<samlp:Status>", "<samlp:Status"+manyAttrs(10000)+">", 1))
			}},
		{name: "oversized body", status: http.StatusRequestEntityTooLarge, reason: reasonTooLarge,
			body: func(e *env) string {
				return "SAMLResponse=" + strings.Repeat("A", int(e.b.maxBody))
			}},
		{name: "user deactivated after provisioning", status: http.StatusForbidden, reason: reasonInactiveUser,
			setup: func(e *env) { e.deactivate("id-alice@example.com") },
			doc:   tweaked(func(*upstreamResponse) {})},
		{name: "unknown user", status: http.StatusForbidden, reason: reasonUnknownUser,
			doc: func(t *testing.T, e *env) []byte {
				return e.validResponse("mallory@example.com", t0).xml(t)
			}},
		{name: "user in no team", status: http.StatusForbidden, reason: reasonUnmappedUser,
			setup: func(e *env) { e.provision("carol@example.com") },
			doc: func(t *testing.T, e *env) []byte {
				return e.validResponse("carol@example.com", t0).xml(t)
			}},
		{name: "wrong recipient", status: http.StatusForbidden, reason: reasonRecipient,
			doc: tweaked(func(r *upstreamResponse) { r.recipient = "https://other-sp.example.com/acs" })},
		{name: "wrong destination on a signed response", status: http.StatusForbidden, reason: reasonDestination,
			doc: tweaked(func(r *upstreamResponse) { r.destination, r.signResponse = "https://other-sp.example.com/acs", true })},
		{name: "another issuer", status: http.StatusForbidden, reason: reasonIssuer,
			doc: tweaked(func(r *upstreamResponse) { r.issuer = "https://evil.example.com" })},
		{name: "InResponseTo on an unsolicited response", status: http.StatusForbidden, reason: reasonInResponseTo,
			doc: tweaked(func(r *upstreamResponse) { r.inResponseTo = "id-somebody-elses-request" })},
		{name: "not base64", status: http.StatusBadRequest, reason: reasonMalformed,
			body: func(*env) string { return "SAMLResponse=%%%" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{idpInit: true})
			e.provision("alice@example.com", "ML Research")
			e.provision("bob@example.com", "ML Platform")
			if tt.setup != nil {
				tt.setup(e)
			}
			var resp *http.Response
			if tt.body != nil {
				resp = e.postBody(acsPath, tt.body(e))
			} else {
				resp = e.acs(tt.doc(t, e), "")
			}
			body := page(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("status %s, want %d", resp.Status, tt.status)
			}
			if strings.Contains(body, "SAMLResponse") || strings.Contains(body, "signin.aws.amazon.com") {
				t.Fatalf("a response to AWS was issued:\n%s", body)
			}
			if got := e.signins(resultRefused, tt.reason); got != 1 {
				t.Errorf("signins_total{refused,%s} = %v, want 1; audit: %v", tt.reason, got, e.logs.audits(t))
			}
			if got := e.signins(resultIssued, reasonNone); got > 1 || (got == 1 && tt.reason != reasonReplay) {
				t.Errorf("signins_total{issued} = %v", got)
			}
			audits := e.logs.audits(t)
			last := audits[len(audits)-1]
			if last["result"] != resultRefused || last["reason"] != tt.reason || !strings.Contains(body, fmt.Sprint(last["ref"])) {
				t.Errorf("audit %v does not match the page (reference in page: %v)", last, strings.Contains(body, "Reference"))
			}
		})
	}
}

func TestUnsolicitedRefusedWhenIdPInitiatedIsOff(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.provision("alice@example.com", "ML Research")
	resp := e.acs(e.validResponse("alice@example.com", t0).xml(t), "https://console.aws.amazon.com/")
	if body := page(t, resp); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "SAMLResponse") {
		t.Fatalf("unsolicited response: %s", resp.Status)
	}
	if got := e.signins(resultRefused, reasonUnsolicited); got != 1 {
		t.Errorf("signins_total{refused,unsolicited} = %v", got)
	}
}

func TestIdPInitiatedKeepsRelayState(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	a := readAWSAnswer(t, e.acs(e.validResponse("alice@example.com", t0).xml(t), "https://console.aws.amazon.com/x"))
	if a.relayState != "https://console.aws.amazon.com/x" {
		t.Errorf("RelayState %q", a.relayState)
	}
	if got := e.logs.audits(t)[0]["flow"]; got != "idp" {
		t.Errorf("flow %v, want idp", got)
	}
}

// An SP-initiated response must answer the request this browser sent.
func TestInResponseToMustMatchTheLoginCookie(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.provision("alice@example.com", "ML Research")
	resp, err := noRedirect.Get(e.base + loginPath)
	if err != nil {
		t.Fatal(err)
	}
	page(t, resp)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	handle := loc.Query().Get("RelayState")
	r := e.validResponse("alice@example.com", t0)
	r.inResponseTo = "id-not-the-request"
	got := e.acs(r.xml(t), handle, resp.Cookies()...)
	if page(t, got); got.StatusCode != http.StatusForbidden {
		t.Fatalf("status %s", got.Status)
	}
	if n := e.signins(resultRefused, reasonInResponseTo); n != 1 {
		t.Errorf("signins_total{refused,in_response_to} = %v", n)
	}
}
