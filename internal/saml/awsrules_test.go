package saml

import (
	"crypto/rsa"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// awsExpect is what the response for one sign-in must say.
type awsExpect struct {
	destination, relayState, issuer, nameID, role, sessionName string
	duration, maxDuration                                      time.Duration
	tags                                                       map[string]string
	transitive                                                 []string
	before, after                                              time.Time
	metadata                                                   []byte
}

var (
	awsNameRe     = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	tagKeyRe      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	tagValueRe    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
	roleValueRe   = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:role/([\x21-\x7E]*/)?[\w+=,.@-]{1,64},arn:aws:iam::[0-9]{12}:saml-provider/[\w._-]{1,128}$`)
	awsAttrNames  = regexp.MustCompile(`^https://aws\.amazon\.com/SAML/Attributes/(Role|RoleSessionName|SessionDuration|SourceIdentity|TransitiveTagKeys|PrincipalTag:.+)$`)
	xmlDateLayout = time.RFC3339
)

// checkAWSRules asserts every rule of aws-saml-requirements.md that
// applies to a Response, by rule ID. Rules about the trust policy and the
// packed session size (TAG-5..7, TT-3, ROLE-4, TRUST-*) are the sync's and
// AWS's; TIME-3 states an absence.
func checkAWSRules(t *testing.T, a awsAnswer, x awsExpect) {
	t.Helper()
	attrs := map[string][]string{}
	counts := map[string]int{}
	for _, at := range a.asrt.FindElements("./AttributeStatement/Attribute") {
		name := at.SelectAttrValue("Name", "")
		counts[name]++
		for _, v := range at.FindElements("./AttributeValue") {
			attrs[name] = append(attrs[name], v.Text())
		}
	}
	tagKeys := map[string]string{}
	for name, vals := range attrs {
		if k, ok := strings.CutPrefix(name, attrPrincipalTag); ok {
			tagKeys[k] = strings.Join(vals, "\x00")
		}
	}
	scs := a.asrt.FindElements("./Subject/SubjectConfirmation")
	scd := a.asrt.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData")
	cond := a.asrt.FindElement("./Conditions")
	at := func(el *etree.Element, attr string) time.Time {
		if el == nil {
			return time.Time{}
		}
		v, err := time.Parse(xmlDateLayout, el.SelectAttrValue(attr, ""))
		if err != nil {
			t.Errorf("%s@%s: %v", el.Tag, attr, err)
		}
		return v
	}
	sigOf := func(el *etree.Element) *etree.Element { return el.FindElement("./Signature") }
	rules := []struct {
		id    string
		check func() string // "" when the rule holds
	}{
		{"ENV-1", func() string {
			if a.action != x.destination || a.encoded == "" || a.relayState != x.relayState {
				return "form posts SAMLResponse to " + a.action + " with RelayState " + a.relayState
			}
			return ""
		}},
		{"ENV-2", func() string {
			if n := len(a.encoded); n < 4 || n > 100000 {
				return strconv.Itoa(n) + " base64 characters"
			}
			return ""
		}},
		{"ENV-3", func() string {
			sc := a.resp.FindElement("./Status/StatusCode")
			if a.resp.SelectAttrValue("Version", "") != "2.0" || sc == nil || sc.SelectAttrValue("Value", "") != statusSuccess {
				return "Version or StatusCode wrong"
			}
			return ""
		}},
		{"ENV-4", func() string {
			if err := checkXML(a.raw); err != nil {
				return err.Error()
			}
			return ""
		}},
		{"ENV-5", func() string {
			if d := a.resp.SelectAttrValue("Destination", ""); d != x.destination {
				return "Destination " + d
			}
			return ""
		}},
		{"ENV-6", func() string {
			if !regexp.MustCompile(`^https://([a-z0-9-]+\.)?signin\.(aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)/saml(/acs/[A-Za-z0-9]+)?$`).MatchString(x.destination) {
				return "not an AWS sign-in endpoint: " + x.destination
			}
			return ""
		}},
		{"ISS-1", func() string {
			md := etree.NewDocument()
			if err := md.ReadFromBytes(x.metadata); err != nil {
				return err.Error()
			}
			entity := md.Root().SelectAttrValue("entityID", "")
			if got := a.asrt.FindElement("./Issuer").Text(); got != entity || got != x.issuer {
				return "Issuer " + got + ", metadata entityID " + entity
			}
			return ""
		}},
		{"SIG-1", func() string {
			// xmlsec1 verified it; the certificate it used must be the one
			// the metadata publishes.
			if !strings.Contains(string(x.metadata), base64.StdEncoding.EncodeToString(keysPool1Raw(t))) {
				return "the signing certificate is not in the metadata"
			}
			return ""
		}},
		{"SIG-2", func() string {
			ref := sigOf(a.asrt).FindElement("./SignedInfo/Reference")
			if ref.SelectAttrValue("URI", "") != "#"+a.asrt.SelectAttrValue("ID", "") {
				return "Reference URI " + ref.SelectAttrValue("URI", "")
			}
			for _, tr := range ref.FindElements("./Transforms/Transform") {
				switch alg := tr.SelectAttrValue("Algorithm", ""); alg {
				case "http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#":
				default:
					return "transform " + alg
				}
			}
			if a.resp.SelectAttrValue("ID", "") == a.asrt.SelectAttrValue("ID", "") {
				return "Response and Assertion share an ID"
			}
			return ""
		}},
		{"SIG-3", func() string {
			for _, s := range []*etree.Element{sigOf(a.asrt), sigOf(a.resp)} {
				if s == nil {
					continue
				}
				if m := s.FindElement("./SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", ""); m != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
					return "SignatureMethod " + m
				}
				if d := s.FindElement("./SignedInfo/Reference/DigestMethod").SelectAttrValue("Algorithm", ""); d != "http://www.w3.org/2001/04/xmlenc#sha256" {
					return "DigestMethod " + d
				}
			}
			return ""
		}},
		{"MD-1", func() string {
			if len(x.metadata) >= 3 && string(x.metadata[:3]) == "\xef\xbb\xbf" {
				return "metadata has a BOM"
			}
			if keysPool1Bits(t) < 2048 {
				return "key under 2048 bits"
			}
			return ""
		}},
		{"MD-2", func() string {
			n := strings.Count(string(x.metadata), "<ds:X509Certificate>")
			if l := len(x.metadata); l < 1000 || l > 10000000 || n < 1 || n > 10 {
				return "metadata of " + strconv.Itoa(l) + " characters with " + strconv.Itoa(n) + " keys"
			}
			return ""
		}},
		{"ENC-1", func() string {
			if a.resp.FindElement(".//EncryptedAssertion") != nil {
				return "encrypted assertion"
			}
			return ""
		}},
		{"SUBJ-1", func() string {
			if nid := a.asrt.FindElement("./Subject/NameID"); nid == nil || nid.Text() != x.nameID {
				return "NameID missing or not the user's id"
			}
			return ""
		}},
		{"SUBJ-2", func() string {
			if f := a.asrt.FindElement("./Subject/NameID").SelectAttrValue("Format", ""); f != nameIDPersistent {
				return "NameID Format " + f
			}
			return ""
		}},
		{"SUBJ-3", func() string {
			if len(scs) != 1 || scs[0].SelectAttrValue("Method", "") != bearer || scd == nil ||
				scd.SelectAttr("NotOnOrAfter") == nil || scd.SelectAttr("Recipient") == nil {
				return "not exactly one bearer SubjectConfirmation with NotOnOrAfter and Recipient"
			}
			return ""
		}},
		{"SUBJ-4", func() string {
			if r := scd.SelectAttrValue("Recipient", ""); r != x.destination {
				return "Recipient " + r
			}
			return ""
		}},
		{"SUBJ-5", func() string {
			if scd.SelectAttr("NotBefore") != nil {
				return "bearer SubjectConfirmationData has NotBefore"
			}
			return ""
		}},
		{"SUBJ-6", func() string {
			for _, el := range a.resp.FindElements("//*[@Address]") {
				if !regexp.MustCompile(`^[0-9a-fA-F.:]+$`).MatchString(el.SelectAttrValue("Address", "")) || strings.Count(el.SelectAttrValue("Address", ""), ":") == 1 {
					return "Address " + el.SelectAttrValue("Address", "")
				}
			}
			return ""
		}},
		{"AUD-1", func() string {
			if au := a.asrt.FindElement("./Conditions/AudienceRestriction/Audience"); au == nil || au.Text() != awsAudience {
				return "no urn:amazon:webservices audience"
			}
			return ""
		}},
		{"TIME-1", func() string {
			nb, noa, scdNoa := at(cond, "NotBefore"), at(cond, "NotOnOrAfter"), at(scd, "NotOnOrAfter")
			if nb.After(x.before) || !x.after.Before(noa) || !x.after.Before(scdNoa) {
				return "window " + nb.String() + " .. " + noa.String() + " does not hold the sign-in"
			}
			return ""
		}},
		{"TIME-2", func() string {
			issued := at(a.asrt, "IssueInstant")
			if at(cond, "NotOnOrAfter").Sub(issued) > 5*time.Minute || issued.After(x.after) {
				return "validity over 5 minutes or IssueInstant in the future"
			}
			return ""
		}},
		{"ATTR-1", func() string {
			for name := range attrs {
				if !awsAttrNames.MatchString(name) {
					return "unexpected attribute " + name
				}
			}
			for _, n := range []string{attrRole, attrRoleSessionName, attrSessionDuration} {
				if _, ok := attrs[n]; !ok {
					return "missing " + n
				}
			}
			return ""
		}},
		{"ATTR-2", func() string {
			for name, n := range counts {
				if n != 1 {
					return name + " appears " + strconv.Itoa(n) + " times"
				}
			}
			return ""
		}},
		{"ATTR-3", func() string {
			for name := range attrs {
				if strings.Contains(name, "AccessControl:") {
					return "IAM Identity Center attribute " + name
				}
			}
			return ""
		}},
		{"ROLE-1", func() string {
			if len(attrs[attrRole]) == 0 {
				return "no Role value"
			}
			return ""
		}},
		{"ROLE-2", func() string {
			for _, v := range attrs[attrRole] {
				if !roleValueRe.MatchString(v) || v != x.role {
					return "Role value " + v
				}
			}
			return ""
		}},
		{"ROLE-3", func() string {
			if n := len(attrs[attrRole]); n != 1 {
				return strconv.Itoa(n) + " Role values; the bridge sends exactly one"
			}
			return ""
		}},
		{"RSN-1", func() string {
			if v := attrs[attrRoleSessionName]; len(v) != 1 || !awsNameRe.MatchString(v[0]) || v[0] != x.sessionName {
				return "RoleSessionName " + strings.Join(v, ",")
			}
			return ""
		}},
		{"DUR-1", func() string {
			v := attrs[attrSessionDuration]
			if len(v) != 1 {
				return "not one SessionDuration"
			}
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 900 || n > 43200 || time.Duration(n)*time.Second != x.duration || time.Duration(n)*time.Second > x.maxDuration {
				return "SessionDuration " + v[0]
			}
			return ""
		}},
		{"SI-1", func() string {
			if v := attrs[attrSourceIdentity]; len(v) != 1 || !awsNameRe.MatchString(v[0]) || strings.HasPrefix(v[0], "aws:") || v[0] != x.sessionName {
				return "SourceIdentity " + strings.Join(v, ",")
			}
			return ""
		}},
		{"TAG-1", func() string {
			for k := range tagKeys {
				if !tagKeyRe.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") {
					return "tag key " + k
				}
			}
			return ""
		}},
		{"TAG-2", func() string {
			for k, v := range tagKeys {
				if strings.Contains(v, "\x00") || !tagValueRe.MatchString(v) || x.tags[k] != v {
					return "tag " + k + " = " + v
				}
			}
			if len(tagKeys) != len(x.tags) {
				return "tags " + strconv.Itoa(len(tagKeys)) + ", want " + strconv.Itoa(len(x.tags))
			}
			return ""
		}},
		{"TAG-3", func() string {
			if len(tagKeys) > 50 {
				return "more than 50 tags"
			}
			return ""
		}},
		{"TAG-4", func() string {
			seen := map[string]bool{}
			for k := range tagKeys {
				if seen[strings.ToLower(k)] {
					return "tag key " + k + " twice, ignoring case"
				}
				seen[strings.ToLower(k)] = true
			}
			return ""
		}},
		{"TT-1", func() string {
			v := attrs[attrTransitiveKeys]
			if len(v) > 50 || strings.Join(v, ",") != strings.Join(x.transitive, ",") {
				return "TransitiveTagKeys " + strings.Join(v, ",")
			}
			for _, k := range v {
				if !tagKeyRe.MatchString(k) {
					return "transitive key " + k
				}
			}
			return ""
		}},
		{"TT-2", func() string {
			for _, k := range attrs[attrTransitiveKeys] {
				if _, ok := tagKeys[k]; !ok {
					return "transitive key " + k + " is not a PrincipalTag"
				}
			}
			return ""
		}},
	}
	for _, r := range rules {
		if msg := r.check(); msg != "" {
			t.Errorf("%s: %s", r.id, msg)
		}
	}
}

func keysPool1Raw(t *testing.T) []byte { return keys(t)[1].cert.Raw }

func keysPool1Bits(t *testing.T) int {
	return keys(t)[1].cert.PublicKey.(*rsa.PublicKey).N.BitLen()
}
