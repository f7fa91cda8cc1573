package saml

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
)

// AWS attribute names (ATTR-1: exact, case-sensitive).
const (
	awsAttrPrefix       = "https://aws.amazon.com/SAML/Attributes/"
	attrRole            = awsAttrPrefix + "Role"
	attrRoleSessionName = awsAttrPrefix + "RoleSessionName"
	attrSessionDuration = awsAttrPrefix + "SessionDuration"
	attrSourceIdentity  = awsAttrPrefix + "SourceIdentity"
	attrPrincipalTag    = awsAttrPrefix + "PrincipalTag:"
	attrTransitiveKeys  = awsAttrPrefix + "TransitiveTagKeys"

	awsAudience      = "urn:amazon:webservices" // AUD-1
	nameIDPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	attrNameFormat   = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	authnUnspecified = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"

	// maxAWSResponse is STS's limit on the base64 response (ENV-2).
	maxAWSResponse = 100000
	// notBeforeSlack back-dates Conditions/NotBefore: AWS documents no
	// tolerance for a clock a little behind the bridge's (TIME-3).
	notBeforeSlack = time.Minute
	xsDateTime     = "2006-01-02T15:04:05Z"
)

// grant is a decision to sign a user in to AWS in one team.
type grant struct {
	// nameID is the user's store id: stable across renames and not PII,
	// as AWS recommends for a NameID that lands in CloudTrail (SUBJ-2).
	nameID     string
	identity   mapping.Identity
	team       mapping.TeamIdentity
	relayState string
}

// issued is a signed response ready to post.
type issued struct {
	id          string
	encoded     string // base64 of the Response
	destination string
	relayState  string
}

// attributes lists the AWS attributes of a grant in a fixed order, one
// entry per name with all its values (ATTR-2).
func (g *grant) attributes() []awsAttribute {
	attrs := []awsAttribute{
		{attrRole, []string{g.team.SAMLRole}},
		{attrRoleSessionName, []string{g.identity.RoleSessionName}},
		{attrSessionDuration, []string{strconv.Itoa(int(g.team.SessionDuration / time.Second))}},
		{attrSourceIdentity, []string{g.identity.SourceIdentity}},
	}
	for _, t := range g.team.SessionTags {
		attrs = append(attrs, awsAttribute{attrPrincipalTag + t.Key, []string{t.Value}})
	}
	if keys := mapping.TransitiveKeys(g.team.SessionTags); len(keys) > 0 {
		attrs = append(attrs, awsAttribute{attrTransitiveKeys, keys})
	}
	return attrs
}

type awsAttribute struct {
	name   string
	values []string
}

// checkLimits re-checks, on the values about to be signed, the AWS limits
// whose breach would only show as a failed AWS sign-in (TAG-3, TAG-4,
// DUR-1). The configuration and mapping enforce them too.
func (g *grant) checkLimits() error {
	if n := len(g.team.SessionTags); n > config.MaxTags {
		return refuse(reasonAWSLimits, "%d session tags; AWS takes %d", n, config.MaxTags)
	}
	seen := map[string]bool{}
	for _, t := range g.team.SessionTags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return refuse(reasonAWSLimits, "session tag %q twice (keys are case-insensitive)", t.Key)
		}
		seen[k] = true
		if err := config.CheckTagKey(t.Key); err != nil {
			return refuse(reasonAWSLimits, "session tag key %q: %w", t.Key, err)
		}
		if err := config.CheckTagValue(t.Value); err != nil {
			return refuse(reasonAWSLimits, "session tag %q: %w", t.Key, err)
		}
	}
	if d := int(g.team.SessionDuration / time.Second); d < config.MinSessionDuration || d > config.MaxSessionDuration {
		return refuse(reasonAWSLimits, "SessionDuration %d outside %d-%d", d, config.MinSessionDuration, config.MaxSessionDuration)
	}
	return nil
}

// awsResponse builds the Response for AWS sign-in, signs the assertion
// (and the Response when configured) with the current key, and encodes it.
func (b *Bridge) awsResponse(g *grant) (*issued, error) {
	if err := g.checkLimits(); err != nil {
		return nil, err
	}
	key, err := b.keys.current()
	if err != nil {
		return nil, err
	}
	now := b.now().UTC()
	respID, err := newID(b.rand)
	if err != nil {
		return nil, err
	}
	asrtID, err := newID(b.rand)
	if err != nil {
		return nil, err
	}
	asrt := b.assertionElement(g, asrtID, now)
	sig, err := key.ctx.ConstructSignature(asrt, true)
	if err != nil {
		return nil, fmt.Errorf("sign assertion: %w", err)
	}
	asrt.InsertChildAt(1, sig) // schema order: right after Issuer

	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("xmlns:saml", nsAssertion)
	resp.CreateAttr("ID", respID)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", now.Format(xsDateTime))
	resp.CreateAttr("Destination", b.destination) // ENV-5
	resp.CreateElement("saml:Issuer").SetText(b.idpEntityID)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)
	resp.AddChild(asrt)
	if b.cfg.IdP.SignResponse {
		sig, err := key.ctx.ConstructSignature(resp, true)
		if err != nil {
			return nil, fmt.Errorf("sign response: %w", err)
		}
		resp.InsertChildAt(1, sig)
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	raw, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("serialize response: %w", err)
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	if len(enc) > maxAWSResponse {
		return nil, refuse(reasonAWSLimits, "response is %d base64 characters; AWS takes %d", len(enc), maxAWSResponse)
	}
	return &issued{id: respID, encoded: enc, destination: b.destination, relayState: g.relayState}, nil
}

// assertionElement builds the unsigned assertion. It declares its own
// namespace so that its exclusive canonical form, and so its signature,
// does not depend on the Response around it.
func (b *Bridge) assertionElement(g *grant, id string, now time.Time) *etree.Element {
	until := now.Add(b.cfg.IdP.AssertionLifetime.Duration).Format(xsDateTime)
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("ID", id)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", now.Format(xsDateTime))
	a.CreateElement("saml:Issuer").SetText(b.idpEntityID) // ISS-1

	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", nameIDPersistent)
	nid.SetText(g.nameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", bearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData") // SUBJ-3..6: no NotBefore, no Address
	scd.CreateAttr("NotOnOrAfter", until)
	scd.CreateAttr("Recipient", b.destination)

	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", now.Add(-notBeforeSlack).Format(xsDateTime))
	cond.CreateAttr("NotOnOrAfter", until)
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(awsAudience)

	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", now.Format(xsDateTime))
	as.CreateAttr("SessionIndex", id)
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(authnUnspecified)

	st := a.CreateElement("saml:AttributeStatement")
	for _, attr := range g.attributes() {
		el := st.CreateElement("saml:Attribute")
		el.CreateAttr("Name", attr.name)
		el.CreateAttr("NameFormat", attrNameFormat)
		for _, v := range attr.values {
			el.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	return a
}

// newID makes a SAML ID: an NCName (so it starts with "_") with 128
// random bits.
func newID(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return "_" + hex.EncodeToString(b[:]), nil
}
