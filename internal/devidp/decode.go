package devidp

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// AWS attribute names.
const (
	awsAttr          = "https://aws.amazon.com/SAML/Attributes/"
	awsAudience      = "urn:amazon:webservices"
	principalTagAttr = awsAttr + "PrincipalTag:"
)

// Decoded is what AWS sign-in would act on, read from the signed bytes.
type Decoded struct {
	Roles              []Role            `json:"roles"`
	RoleSessionName    string            `json:"roleSessionName"`
	SessionDuration    int               `json:"sessionDuration"`
	SourceIdentity     string            `json:"sourceIdentity"`
	PrincipalTags      map[string]string `json:"principalTags"`
	TransitiveTagKeys  []string          `json:"transitiveTagKeys"`
	NameID             string            `json:"nameId"`
	Issuer             string            `json:"issuer"`
	Audiences          []string          `json:"audiences"`
	Destination        string            `json:"destination"`
	Recipient          string            `json:"recipient"`
	IssueInstant       time.Time         `json:"issueInstant"`
	NotBefore          time.Time         `json:"notBefore"`
	NotOnOrAfter       time.Time         `json:"notOnOrAfter"`
	SignatureAlgorithm string            `json:"signatureAlgorithm"`
	// Signed lists the elements whose signature verified: Assertion,
	// and Response when the bridge signs it too.
	Signed     []string `json:"signed"`
	RelayState string   `json:"relayState,omitempty"`
}

// Role is one value of the Role attribute.
type Role struct {
	RoleARN     string `json:"roleArn"`
	ProviderARN string `json:"providerArn"`
}

// expect is what the response must match, as AWS would require.
type expect struct {
	issuer string // the entity ID of the metadata
	certs  []*x509.Certificate
	url    string // the sign-in URL: Destination and Recipient
	now    time.Time
}

// decode verifies the base64 Response and reads the signed assertion.
func decode(encoded string, exp expect) (*Decoded, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
	if err != nil {
		return nil, fmt.Errorf("SAMLResponse is not base64: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("parse the response: %w", err)
	}
	resp := doc.Root()
	if resp == nil || resp.Tag != "Response" {
		return nil, errors.New("the document is not a SAML Response")
	}
	asrts := resp.SelectElements("Assertion")
	if len(asrts) != 1 {
		return nil, fmt.Errorf("%d assertions, want 1", len(asrts))
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: exp.certs})
	vc.IdAttribute = "ID"
	vc.Clock = dsig.NewFakeClockAt(exp.now)
	d := &Decoded{Destination: resp.SelectAttrValue("Destination", "")}
	if resp.SelectElement("Signature") != nil {
		if resp, err = vc.Validate(resp); err != nil {
			return nil, fmt.Errorf("Response signature: %w", err)
		}
		d.Signed = append(d.Signed, "Response")
	}
	signed, err := vc.Validate(asrts[0])
	if err != nil {
		return nil, fmt.Errorf("Assertion signature: %w", err)
	}
	d.Signed = append(d.Signed, "Assertion")
	d.SignatureAlgorithm = signatureMethod(asrts[0])
	var a crewjam.Assertion
	if err := unmarshal(signed, &a); err != nil {
		return nil, err
	}
	if err := d.read(&a); err != nil {
		return nil, err
	}
	return d, d.check(exp)
}

func signatureMethod(el *etree.Element) string {
	if m := el.FindElement("./Signature/SignedInfo/SignatureMethod"); m != nil {
		return m.SelectAttrValue("Algorithm", "")
	}
	return ""
}

func unmarshal(el *etree.Element, v any) error {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	raw, err := doc.WriteToBytes()
	if err == nil {
		err = xml.Unmarshal(raw, v)
	}
	if err != nil {
		return fmt.Errorf("read the signed assertion: %w", err)
	}
	return nil
}

// read takes the fields AWS acts on from the signed assertion.
func (d *Decoded) read(a *crewjam.Assertion) error {
	d.Issuer, d.IssueInstant, d.PrincipalTags = a.Issuer.Value, a.IssueInstant, map[string]string{}
	if a.Subject != nil {
		if a.Subject.NameID != nil {
			d.NameID = a.Subject.NameID.Value
		}
		for _, sc := range a.Subject.SubjectConfirmations {
			if sc.SubjectConfirmationData != nil {
				d.Recipient = sc.SubjectConfirmationData.Recipient
			}
		}
	}
	if c := a.Conditions; c != nil {
		d.NotBefore, d.NotOnOrAfter = c.NotBefore, c.NotOnOrAfter
		for _, ar := range c.AudienceRestrictions {
			d.Audiences = append(d.Audiences, ar.Audience.Value)
		}
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if err := d.attribute(at.Name, values(at)); err != nil {
				return err
			}
		}
	}
	return nil
}

func values(at crewjam.Attribute) []string {
	out := make([]string, len(at.Values))
	for i, v := range at.Values {
		out[i] = v.Value
	}
	return out
}

func (d *Decoded) attribute(name string, vals []string) error {
	one := func() string { return strings.Join(vals, ",") }
	switch name {
	case awsAttr + "Role":
		for _, v := range vals {
			d.Roles = append(d.Roles, splitRole(v))
		}
	case awsAttr + "RoleSessionName":
		d.RoleSessionName = one()
	case awsAttr + "SourceIdentity":
		d.SourceIdentity = one()
	case awsAttr + "SessionDuration":
		n, err := strconv.Atoi(one())
		if err != nil {
			return fmt.Errorf("SessionDuration %q: %w", one(), err)
		}
		d.SessionDuration = n
	case awsAttr + "TransitiveTagKeys":
		d.TransitiveTagKeys = vals
	default:
		if key, ok := strings.CutPrefix(name, principalTagAttr); ok {
			d.PrincipalTags[key] = one()
		}
	}
	return nil
}

// splitRole reads "role-arn,provider-arn", in either order, as AWS does.
func splitRole(v string) Role {
	a, b, _ := strings.Cut(v, ",")
	if strings.Contains(a, ":saml-provider/") {
		a, b = b, a
	}
	return Role{RoleARN: strings.TrimSpace(a), ProviderARN: strings.TrimSpace(b)}
}

// check makes the checks AWS sign-in makes on a verified response.
func (d *Decoded) check(exp expect) error {
	switch {
	case d.Issuer != exp.issuer:
		return fmt.Errorf("Issuer %q is not the metadata's entity ID %q", d.Issuer, exp.issuer)
	case d.Destination != exp.url:
		return fmt.Errorf("Destination %q, want %q", d.Destination, exp.url)
	case d.Recipient != exp.url:
		return fmt.Errorf("Recipient %q, want %q", d.Recipient, exp.url)
	case !slices.Contains(d.Audiences, awsAudience):
		return fmt.Errorf("audiences %v do not include %s", d.Audiences, awsAudience)
	case exp.now.Before(d.NotBefore) || !exp.now.Before(d.NotOnOrAfter):
		return fmt.Errorf("valid from %s until %s, not now (%s)", d.NotBefore, d.NotOnOrAfter, exp.now)
	case len(d.Roles) == 0:
		return errors.New("no Role")
	case d.RoleSessionName == "":
		return errors.New("no RoleSessionName")
	}
	return nil
}
