package saml

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

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
	encoded     []byte // base64 of the Response
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
	d := &awsDoc{
		respID: respID, asrtID: asrtID,
		issueInstant: now.Format(xsDateTime),
		notBefore:    now.Add(-notBeforeSlack).Format(xsDateTime),
		until:        now.Add(b.cfg.IdP.AssertionLifetime.Duration).Format(xsDateTime),
		issuer:       b.idpEntityID, destination: b.destination, // ISS-1, ENV-5
		nameID: g.nameID, attrs: g.attributes(),
	}
	buf := docBuffers.Get().(*[]byte)
	defer docBuffers.Put(buf)
	raw, err := d.build(key, b.cfg.IdP.SignResponse, (*buf)[:0])
	*buf = raw[:0]
	if err != nil {
		return nil, err
	}
	if n := base64.StdEncoding.EncodedLen(len(raw)); n > maxAWSResponse {
		return nil, refuse(reasonAWSLimits, "response is %d base64 characters; AWS takes %d", n, maxAWSResponse)
	}
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(enc, raw)
	return &issued{id: respID, encoded: enc, destination: b.destination, relayState: g.relayState}, nil
}

// docBuffers recycles the buffers responses are written in.
var docBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// awsDoc is what one Response for AWS says.
type awsDoc struct {
	respID, asrtID                 string
	issueInstant, notBefore, until string // xsDateTime
	issuer, destination, nameID    string
	attrs                          []awsAttribute
}

// build appends the signed Response to dst and returns it.
//
// The bridge writes the bytes itself rather than building a tree and
// having goxmldsig canonicalise and serialise it: it knows the exact
// document, so it writes the exclusive canonical form of what it signs
// directly (the assertion without its signature, the SignedInfo), and
// the document it sends, which canonicalises to those same bytes. The
// output is byte for byte what the etree and goxmldsig construction made
// (awsresponse_test.go keeps that construction and compares); xmlsec1
// verifies it in the end-to-end test.
func (d *awsDoc) build(key *signingKey, signResponse bool, dst []byte) ([]byte, error) {
	// The assertion, signed over its canonical form: it declares its own
	// namespace, so that form does not depend on the Response around it.
	x := &xmlOut{b: dst, canonical: true}
	d.assertion(x, nil)
	asrtSig, err := key.signature(d.asrtID, x.b)
	if err != nil {
		return nil, fmt.Errorf("sign assertion: %w", err)
	}
	var respSig *signature
	if signResponse {
		// The Response's canonical form: it declares only samlp (saml is
		// not used on it), so its Issuer and its Assertion declare saml.
		x = &xmlOut{b: x.b[:0], canonical: true}
		d.responseStart(x, true)
		d.status(x)
		d.assertion(x, asrtSig)
		x.end("samlp:Response")
		if respSig, err = key.signature(d.respID, x.b); err != nil {
			return nil, fmt.Errorf("sign response: %w", err)
		}
	}
	x = &xmlOut{b: x.b[:0]}
	d.responseStart(x, signResponse)
	if respSig != nil {
		respSig.write(x)
	}
	d.status(x)
	d.assertion(x, asrtSig)
	x.end("samlp:Response")
	return x.b, nil
}

// responseStart writes the Response's start tag and Issuer. A signed
// Response is in the shape its canonicalisation gives it: namespace
// declarations where they are used, attributes in canonical order.
func (d *awsDoc) responseStart(x *xmlOut, canonicalShape bool) {
	if canonicalShape {
		x.open("samlp:Response", "xmlns:samlp", nsProtocol,
			"Destination", d.destination, "ID", d.respID, "IssueInstant", d.issueInstant, "Version", "2.0")
		x.open("saml:Issuer", "xmlns:saml", nsAssertion)
		x.text(d.issuer)
		x.end("saml:Issuer")
		return
	}
	x.open("samlp:Response", "xmlns:samlp", nsProtocol, "xmlns:saml", nsAssertion,
		"ID", d.respID, "Version", "2.0", "IssueInstant", d.issueInstant, "Destination", d.destination)
	x.leaf("saml:Issuer", d.issuer)
}

func (d *awsDoc) status(x *xmlOut) {
	x.open("samlp:Status")
	x.empty("samlp:StatusCode", "Value", statusSuccess)
	x.end("samlp:Status")
}

// assertion writes the assertion, with sig after its Issuer (schema
// order) unless sig is nil. Attributes are in canonical order.
func (d *awsDoc) assertion(x *xmlOut, sig *signature) {
	x.open("saml:Assertion", "xmlns:saml", nsAssertion, "ID", d.asrtID, "IssueInstant", d.issueInstant, "Version", "2.0")
	x.leaf("saml:Issuer", d.issuer)
	if sig != nil {
		sig.write(x)
	}

	x.open("saml:Subject")
	x.start("saml:NameID")
	x.attr("Format", nameIDPersistent) // SUBJ-2
	x.body("saml:NameID", d.nameID)
	x.open("saml:SubjectConfirmation", "Method", bearer)
	// SUBJ-3..6: no NotBefore, no Address.
	x.empty("saml:SubjectConfirmationData", "NotOnOrAfter", d.until, "Recipient", d.destination)
	x.end("saml:SubjectConfirmation")
	x.end("saml:Subject")

	x.open("saml:Conditions", "NotBefore", d.notBefore, "NotOnOrAfter", d.until)
	x.open("saml:AudienceRestriction")
	x.leaf("saml:Audience", awsAudience)
	x.end("saml:AudienceRestriction")
	x.end("saml:Conditions")

	x.open("saml:AuthnStatement", "AuthnInstant", d.issueInstant, "SessionIndex", d.asrtID)
	x.open("saml:AuthnContext")
	x.leaf("saml:AuthnContextClassRef", authnUnspecified)
	x.end("saml:AuthnContext")
	x.end("saml:AuthnStatement")

	if len(d.attrs) == 0 {
		x.empty("saml:AttributeStatement")
	} else {
		x.open("saml:AttributeStatement")
		for _, attr := range d.attrs {
			if len(attr.values) == 0 {
				x.empty("saml:Attribute", "Name", attr.name, "NameFormat", attrNameFormat)
				continue
			}
			x.open("saml:Attribute", "Name", attr.name, "NameFormat", attrNameFormat)
			for _, v := range attr.values {
				x.leaf("saml:AttributeValue", v)
			}
			x.end("saml:Attribute")
		}
		x.end("saml:AttributeStatement")
	}
	x.end("saml:Assertion")
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
