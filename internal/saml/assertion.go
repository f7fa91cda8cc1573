package saml

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

// assertion is what the bridge reads from a verified upstream assertion.
type assertion struct {
	id            string
	issuer        string
	issueInstant  time.Time
	nameID        string
	notBefore     time.Time
	notOnOrAfter  time.Time
	audiences     [][]string // one list per AudienceRestriction
	confirmations []confirmation
	attributes    map[string][]string
}

type confirmation struct {
	recipient    string
	inResponseTo string
	notOnOrAfter time.Time
	hasNotBefore bool
}

// expires is when the assertion can no longer be used anywhere: the replay
// cache keeps its ID until then.
func (a *assertion) expires() time.Time {
	t := a.notOnOrAfter
	for _, c := range a.confirmations {
		if c.notOnOrAfter.After(t) {
			t = c.notOnOrAfter
		}
	}
	return t
}

// readAssertion reads the fields of an assertion element. Every element it
// needs must appear once; text must be plain text.
func readAssertion(el *etree.Element) (*assertion, error) {
	a := &assertion{id: el.SelectAttrValue("ID", ""), attributes: map[string][]string{}}
	if a.id == "" {
		return nil, refuse(reasonStructure, "Assertion has no ID")
	}
	var err error
	if a.issueInstant, err = timeAttr(el, "IssueInstant", true); err != nil {
		return nil, err
	}
	iss := only(children(el, nsAssertion, "Issuer"))
	if iss == nil {
		return nil, refuse(reasonIssuer, "Assertion has no single Issuer")
	}
	a.issuer = text(iss)
	if err := a.readSubject(el); err != nil {
		return nil, err
	}
	if cond := only(children(el, nsAssertion, "Conditions")); cond != nil {
		if a.notBefore, err = timeAttr(cond, "NotBefore", false); err != nil {
			return nil, err
		}
		if a.notOnOrAfter, err = timeAttr(cond, "NotOnOrAfter", false); err != nil {
			return nil, err
		}
		for _, ar := range children(cond, nsAssertion, "AudienceRestriction") {
			var set []string
			for _, au := range children(ar, nsAssertion, "Audience") {
				set = append(set, text(au))
			}
			a.audiences = append(a.audiences, set)
		}
	}
	for _, st := range children(el, nsAssertion, "AttributeStatement") {
		for _, at := range children(st, nsAssertion, "Attribute") {
			name := at.SelectAttrValue("Name", "")
			for _, av := range children(at, nsAssertion, "AttributeValue") {
				a.attributes[name] = append(a.attributes[name], text(av))
			}
		}
	}
	return a, nil
}

func (a *assertion) readSubject(el *etree.Element) error {
	subj := only(children(el, nsAssertion, "Subject"))
	if subj == nil {
		return refuse(reasonStructure, "Assertion has no single Subject")
	}
	nid := only(children(subj, nsAssertion, "NameID"))
	if nid == nil || len(subj.ChildElements()) != 1+len(children(subj, nsAssertion, "SubjectConfirmation")) {
		return refuse(reasonStructure, "Subject needs exactly one plain NameID")
	}
	if len(nid.ChildElements()) > 0 {
		return refuse(reasonStructure, "NameID has child elements")
	}
	a.nameID = strings.TrimSpace(text(nid))
	for _, sc := range children(subj, nsAssertion, "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != bearer {
			continue
		}
		c := confirmation{}
		if d := only(children(sc, nsAssertion, "SubjectConfirmationData")); d != nil {
			var err error
			if c.notOnOrAfter, err = timeAttr(d, "NotOnOrAfter", false); err != nil {
				return err
			}
			c.recipient = d.SelectAttrValue("Recipient", "")
			c.inResponseTo = d.SelectAttrValue("InResponseTo", "")
			c.hasNotBefore = d.SelectAttr("NotBefore") != nil
		}
		a.confirmations = append(a.confirmations, c)
	}
	return nil
}

func timeAttr(el *etree.Element, name string, required bool) (time.Time, error) {
	v := el.SelectAttrValue(name, "")
	if v == "" {
		if required {
			return time.Time{}, refuse(reasonStructure, "%s has no %s", el.Tag, name)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, refuse(reasonStructure, "%s %s: %w", el.Tag, name, err)
	}
	return t, nil
}

// text returns all the character data directly inside el, so that text
// split into several nodes is read whole, never just its first part.
func text(el *etree.Element) string {
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			if len(el.Child) == 1 {
				return cd.Data // the usual case, without a copy
			}
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}

// is reports whether el is the element ns:tag.
func is(el *etree.Element, ns, tag string) bool {
	return el != nil && el.Tag == tag && el.NamespaceURI() == ns
}

// children returns the child elements ns:tag of el.
func children(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	// el.Child, not el.ChildElements: that one allocates a slice per
	// call, and verification asks for children a hundred times.
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && is(c, ns, tag) {
			out = append(out, c)
		}
	}
	return out
}

// only returns the single element of list, nil when there are none or
// several.
func only(list []*etree.Element) *etree.Element {
	if len(list) != 1 {
		return nil
	}
	return list[0]
}

// walk calls fn for el and every element below it.
func walk(el *etree.Element, fn func(*etree.Element)) {
	fn(el)
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok {
			walk(c, fn)
		}
	}
}
