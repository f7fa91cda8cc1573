package saml

import (
	"crypto/x509"
	"errors"
	"slices"
	"time"

	"github.com/beevik/etree"
)

// SAML and XML-DSig names.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"

	statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bearer        = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// maxAssertionAge is how old an upstream assertion's IssueInstant may be
// (plus the skew): IdPs give assertions minutes, not hours.
const maxAssertionAge = 10 * time.Minute

// verifier checks upstream Responses for one SP.
type verifier struct {
	entityID string // our SP entity ID, the required audience
	acsURL   string // the required Destination and Recipient
	skew     time.Duration
}

// expectation is what this particular response must answer.
type expectation struct {
	// inResponseTo is the ID of the AuthnRequest this browser sent, or ""
	// for an IdP-initiated response, which must then carry none.
	inResponseTo string
	now          time.Time
}

// verify checks a decoded Response against the upstream metadata and
// returns the assertion read from the signed bytes only.
func (v *verifier) verify(raw []byte, up *upstream, exp expectation) (*assertion, error) {
	resp, err := parseXML(raw)
	if err != nil {
		if errors.Is(err, errForbiddenXML) {
			return nil, badRequest(reasonForbiddenXML, "%w", err)
		}
		return nil, badRequest(reasonMalformed, "%w", err)
	}
	if !is(resp, nsProtocol, "Response") {
		return nil, badRequest(reasonMalformed, "root element is %s, not samlp:Response", resp.FullTag())
	}
	asrt, err := v.shape(resp)
	if err != nil {
		return nil, err
	}
	signedResp, signedAsrt, err := v.signatures(resp, asrt, up.certs, exp.now)
	if err != nil {
		return nil, err
	}
	// Response fields come from the signed copy when the Response is
	// signed; otherwise they are unsigned, and only the assertion counts.
	r := resp
	if signedResp != nil {
		r = signedResp
		if signedAsrt == nil {
			if signedAsrt = only(children(signedResp, nsAssertion, "Assertion")); signedAsrt == nil {
				return nil, refuse(reasonStructure, "the signed Response holds no single Assertion")
			}
		}
	}
	if err := v.checkResponse(r, signedResp != nil, up, exp); err != nil {
		return nil, err
	}
	a, err := readAssertion(signedAsrt)
	if err != nil {
		return nil, err
	}
	if err := v.checkAssertion(a, up, exp); err != nil {
		return nil, err
	}
	return a, nil
}

// shape checks the structure before any signature is looked at: exactly
// one plain Assertion, a direct child of the Response; no encrypted ones;
// signatures only as direct children of those two; IDs unique. Signature
// wrapping needs a second assertion or a moved one, so it stops here.
func (v *verifier) shape(resp *etree.Element) (*etree.Element, error) {
	var assertions, signatures int
	ids := map[string]bool{}
	var dup string
	walk(resp, func(el *etree.Element) {
		switch {
		case is(el, nsAssertion, "Assertion"), is(el, nsAssertion, "EncryptedAssertion"):
			assertions++
		case is(el, nsDSig, "Signature"):
			signatures++
		}
		if id := el.SelectAttrValue("ID", ""); id != "" {
			if ids[id] {
				dup = id
			}
			ids[id] = true
		}
	})
	direct := children(resp, nsAssertion, "Assertion")
	switch {
	case assertions != 1 || len(direct) != 1:
		return nil, refuse(reasonStructure, "%d assertions in the document, %d plain ones under the Response; exactly one is accepted", assertions, len(direct))
	case dup != "":
		return nil, refuse(reasonStructure, "the ID %q appears twice", dup)
	}
	asrt := direct[0]
	onResp, onAsrt := len(children(resp, nsDSig, "Signature")), len(children(asrt, nsDSig, "Signature"))
	if onResp > 1 || onAsrt > 1 || onResp+onAsrt != signatures {
		return nil, refuse(reasonStructure, "%d signatures, %d on the Response and %d on the Assertion; others are not accepted", signatures, onResp, onAsrt)
	}
	if signatures == 0 {
		return nil, refuse(reasonSignature, "neither the Response nor the Assertion is signed")
	}
	return asrt, nil
}

// signatures verifies each signature present and returns the signed
// copies of the Response and of the Assertion (nil where not signed).
func (v *verifier) signatures(resp, asrt *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, *etree.Element, error) {
	var signed [2]*etree.Element
	for i, el := range []*etree.Element{resp, asrt} {
		if len(children(el, nsDSig, "Signature")) == 0 {
			continue
		}
		got, err := verifySignature(el, certs, now)
		if err != nil {
			return nil, nil, refuse(reasonSignature, "%s: %w", el.Tag, err)
		}
		signed[i] = got
	}
	return signed[0], signed[1], nil
}

// checkResponse checks the Response's own fields. Destination is required
// on a signed Response (SAML bindings 3.5.5.2) and checked when present.
func (v *verifier) checkResponse(r *etree.Element, signed bool, up *upstream, exp expectation) error {
	dest := r.SelectAttrValue("Destination", "")
	if (signed || dest != "") && dest != v.acsURL {
		return refuse(reasonDestination, "Destination %q, want %q", dest, v.acsURL)
	}
	if irt := r.SelectAttrValue("InResponseTo", ""); irt != exp.inResponseTo {
		return refuse(reasonInResponseTo, "Response InResponseTo %q, want %q", irt, exp.inResponseTo)
	}
	if iss := only(children(r, nsAssertion, "Issuer")); iss != nil && text(iss) != up.entityID {
		return refuse(reasonIssuer, "Response Issuer %q, want %q", text(iss), up.entityID)
	}
	var code string
	if st := only(children(r, nsProtocol, "Status")); st != nil {
		if sc := only(children(st, nsProtocol, "StatusCode")); sc != nil {
			code = sc.SelectAttrValue("Value", "")
		}
	}
	if code != statusSuccess {
		return refuse(reasonStatus, "status %q", code)
	}
	return nil
}

// checkAssertion checks issuer, audience, time window and the bearer
// subject confirmation of the signed assertion.
func (v *verifier) checkAssertion(a *assertion, up *upstream, exp expectation) error {
	now, skew := exp.now, v.skew
	if a.issuer != up.entityID {
		return refuse(reasonIssuer, "Assertion Issuer %q, want %q", a.issuer, up.entityID)
	}
	if a.issueInstant.After(now.Add(skew)) {
		return refuse(reasonNotYetValid, "IssueInstant %s is in the future", a.issueInstant.Format(time.RFC3339))
	}
	if a.issueInstant.Add(maxAssertionAge + skew).Before(now) {
		return refuse(reasonExpired, "IssueInstant %s is older than %s", a.issueInstant.Format(time.RFC3339), maxAssertionAge)
	}
	if !a.notBefore.IsZero() && a.notBefore.After(now.Add(skew)) {
		return refuse(reasonNotYetValid, "Conditions NotBefore %s", a.notBefore.Format(time.RFC3339))
	}
	if !a.notOnOrAfter.IsZero() && !now.Before(a.notOnOrAfter.Add(skew)) {
		return refuse(reasonExpired, "Conditions NotOnOrAfter %s", a.notOnOrAfter.Format(time.RFC3339))
	}
	if len(a.audiences) == 0 {
		return refuse(reasonAudience, "no AudienceRestriction")
	}
	for _, set := range a.audiences {
		if !slices.Contains(set, v.entityID) {
			return refuse(reasonAudience, "AudienceRestriction %v does not name %q", set, v.entityID)
		}
	}
	var firstErr error
	for _, c := range a.confirmations {
		err := v.checkConfirmation(c, exp)
		if err == nil {
			return nil
		}
		firstErr = cmpErr(firstErr, err)
	}
	if firstErr == nil {
		return refuse(reasonStructure, "no bearer SubjectConfirmation")
	}
	return firstErr
}

func (v *verifier) checkConfirmation(c confirmation, exp expectation) error {
	switch {
	case c.recipient != v.acsURL:
		return refuse(reasonRecipient, "Recipient %q, want %q", c.recipient, v.acsURL)
	case c.notOnOrAfter.IsZero():
		return refuse(reasonStructure, "SubjectConfirmationData has no NotOnOrAfter")
	case !exp.now.Before(c.notOnOrAfter.Add(v.skew)):
		return refuse(reasonExpired, "SubjectConfirmationData NotOnOrAfter %s", c.notOnOrAfter.Format(time.RFC3339))
	case c.hasNotBefore:
		return refuse(reasonStructure, "bearer SubjectConfirmationData carries NotBefore")
	case c.inResponseTo != exp.inResponseTo:
		return refuse(reasonInResponseTo, "SubjectConfirmationData InResponseTo %q, want %q", c.inResponseTo, exp.inResponseTo)
	}
	return nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
