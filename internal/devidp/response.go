package devidp

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// notBeforeSlack back-dates NotBefore, for a bridge clock a little behind.
const notBeforeSlack = 30 * time.Second

// response makes the base64 of a Response for userName (the NameID, which
// dev mode's bridge looks users up by), its assertion signed with
// RSA-SHA256 and exclusive c14n as the bridge requires. inResponseTo is the
// AuthnRequest's ID in an SP-initiated sign-in, "" in an IdP-initiated one.
func (p *IdP) response(userName, inResponseTo string) (string, error) {
	now := p.o.Now().UTC()
	respID, err := newID()
	if err != nil {
		return "", err
	}
	asrtID, err := newID()
	if err != nil {
		return "", err
	}
	until := now.Add(assertionLifetime)
	a := &crewjam.Assertion{
		ID: asrtID, IssueInstant: now, Version: "2.0",
		Issuer: crewjam.Issuer{Value: p.entityID},
		Subject: &crewjam.Subject{
			NameID: &crewjam.NameID{Format: string(crewjam.UnspecifiedNameIDFormat), Value: userName},
			SubjectConfirmations: []crewjam.SubjectConfirmation{{
				Method:                  "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &crewjam.SubjectConfirmationData{NotOnOrAfter: until, Recipient: p.o.ACSURL, InResponseTo: inResponseTo},
			}},
		},
		Conditions: &crewjam.Conditions{
			NotBefore: now.Add(-notBeforeSlack), NotOnOrAfter: until,
			AudienceRestrictions: []crewjam.AudienceRestriction{{Audience: crewjam.Audience{Value: p.o.Audience}}},
		},
		AuthnStatements: []crewjam.AuthnStatement{{AuthnInstant: now, SessionIndex: asrtID, AuthnContext: crewjam.AuthnContext{
			AuthnContextClassRef: &crewjam.AuthnContextClassRef{Value: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
		}}},
	}
	asrt := a.Element()
	if err := p.sign(asrt); err != nil {
		return "", err
	}
	r := &crewjam.Response{
		ID: respID, Version: "2.0", IssueInstant: now, Destination: p.o.ACSURL, InResponseTo: inResponseTo,
		Issuer: &crewjam.Issuer{Value: p.entityID},
		Status: crewjam.Status{StatusCode: crewjam.StatusCode{Value: crewjam.StatusSuccess}},
	}
	resp := r.Element()
	resp.AddChild(asrt)
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	raw, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("serialize dev IdP response: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// sign puts an enveloped signature right after el's Issuer.
func (p *IdP) sign(el *etree.Element) error {
	sc, err := dsig.NewSigningContext(p.signer.key, [][]byte{p.signer.cert.Raw})
	if err == nil {
		err = sc.SetSignatureMethod(dsig.RSASHA256SignatureMethod)
	}
	if err != nil {
		return fmt.Errorf("dev IdP signing context: %w", err)
	}
	sc.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	sig, err := sc.ConstructSignature(el, true)
	if err != nil {
		return fmt.Errorf("sign dev IdP assertion: %w", err)
	}
	el.InsertChildAt(1, sig)
	return nil
}

// newID makes a SAML ID: an NCName with 128 random bits.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return "_" + hex.EncodeToString(b[:]), nil
}

func encodeCert(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }
