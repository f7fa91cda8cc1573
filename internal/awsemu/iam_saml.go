package awsemu

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"sort"
	"time"
)

type samlProvider struct {
	name, arn, uuid string
	metadata        string
	tags            []Tag
	created         time.Time
	validUntil      time.Time
}

var reSAMLProviderARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):saml-provider/(.+)$`)

// metadataFrom validates a SAMLMetadataDocument: 1,000–10,000,000 characters
// (reference rule 16; the Go SDK does not check lengths) and an
// EntityDescriptor with an IdP role, else IAM cannot use it. It returns the
// metadata's validUntil, if any.
func metadataFrom(f form) (string, time.Time, error) {
	doc, err := f.required("SAMLMetadataDocument")
	if err != nil {
		return "", time.Time{}, err
	}
	if err := validateString(serviceIAM, "sAMLMetadataDocument", doc, 1000, 10000000, nil); err != nil {
		return "", time.Time{}, err
	}
	var md struct {
		XMLName    xml.Name
		ValidUntil string     `xml:"validUntil,attr"`
		IdP        []xml.Name `xml:"IDPSSODescriptor"`
	}
	if err := xml.Unmarshal([]byte(doc), &md); err != nil || md.XMLName.Local != "EntityDescriptor" || len(md.IdP) == 0 {
		return "", time.Time{}, iamErr("InvalidInput", "Could not parse metadata")
	}
	var until time.Time
	if md.ValidUntil != "" {
		until, err = time.Parse(time.RFC3339, md.ValidUntil)
		if err != nil {
			return "", time.Time{}, iamErr("InvalidInput", "Could not parse metadata: invalid validUntil")
		}
	}
	return doc, until, nil
}

func (e *Emulator) createSAMLProvider(f form) (any, error) {
	name, err := f.required("Name")
	if err != nil {
		return nil, err
	}
	if err := validateString(serviceIAM, "name", name, 1, 128, reSAMLName); err != nil {
		return nil, err
	}
	doc, until, err := metadataFrom(f)
	if err != nil {
		return nil, err
	}
	tags := f.tagList("Tags")
	if err := validateTags(serviceIAM, tags, true); err != nil {
		return nil, err
	}
	if _, ok := e.iam.saml[name]; ok {
		return nil, iamErr("EntityAlreadyExists", "SAMLProvider %s already exists.", name)
	}
	if q := e.opts.Quotas.SAMLProviders; len(e.iam.saml) >= q {
		return nil, iamErr("LimitExceeded", "Cannot exceed quota for SamlProvidersPerAccount: %d", q)
	}
	now := e.now()
	if until.IsZero() {
		until = now.AddDate(100, 0, 0)
	}
	p := &samlProvider{
		name: name, arn: fmt.Sprintf("arn:aws:iam::%s:saml-provider/%s", e.opts.AccountID, name),
		uuid: e.newUUID(), metadata: doc, tags: tags, created: now, validUntil: until,
	}
	e.iam.saml[name] = p
	return struct {
		SAMLProviderArn string
		Tags            *xmlTagList `xml:",omitempty"`
	}{p.arn, optionalTags(p.tags)}, nil
}

// newUUID returns a version-4-shaped UUID derived from a counter, so runs
// are reproducible.
func (e *Emulator) newUUID() string {
	e.idSeq++
	x := e.idSeq
	h := x * 0x9E3779B97F4A7C15
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, x&0xfff, x)
}

// samlFor returns the provider a request names by SAMLProviderArn.
func (e *Emulator) samlFor(f form) (*samlProvider, error) {
	arn, err := f.required("SAMLProviderArn")
	if err != nil {
		return nil, err
	}
	if err := validateString(serviceIAM, "sAMLProviderArn", arn, 20, 2048, nil); err != nil {
		return nil, err
	}
	m := reSAMLProviderARN.FindStringSubmatch(arn)
	if m == nil {
		return nil, iamErr("InvalidInput", "ARN %s is not valid.", arn)
	}
	p, ok := e.iam.saml[m[2]]
	if !ok || m[1] != e.opts.AccountID {
		return nil, iamErr("NoSuchEntity", "Manifest not found for arn %s", arn)
	}
	return p, nil
}

func (e *Emulator) getSAMLProvider(f form) (any, error) {
	p, err := e.samlFor(f)
	if err != nil {
		return nil, err
	}
	return struct {
		SAMLMetadataDocument string
		CreateDate           string
		ValidUntil           string
		SAMLProviderUUID     string
		Tags                 *xmlTagList `xml:",omitempty"`
	}{p.metadata, iamTime(p.created), iamTime(p.validUntil), p.uuid, optionalTags(p.tags)}, nil
}

// updateSAMLProvider replaces the metadata (reference rule 16).
func (e *Emulator) updateSAMLProvider(f form) (any, error) {
	p, err := e.samlFor(f)
	if err != nil {
		return nil, err
	}
	doc, until, err := metadataFrom(f)
	if err != nil {
		return nil, err
	}
	p.metadata = doc
	if !until.IsZero() {
		p.validUntil = until
	}
	return struct{ SAMLProviderArn string }{p.arn}, nil
}

func (e *Emulator) deleteSAMLProvider(f form) (any, error) {
	p, err := e.samlFor(f)
	if err != nil {
		return nil, err
	}
	delete(e.iam.saml, p.name)
	return nil, nil
}

// listSAMLProviders returns only Arn, ValidUntil and CreateDate: comparing
// metadata needs GetSAMLProvider (reference rule 16). It is not paged.
func (e *Emulator) listSAMLProviders(form) (any, error) {
	type entry struct {
		Arn        string
		ValidUntil string
		CreateDate string
	}
	names := make([]string, 0, len(e.iam.saml))
	for n := range e.iam.saml {
		names = append(names, n)
	}
	sort.Strings(names)
	out := struct {
		SAMLProviderList []entry `xml:"SAMLProviderList>member"`
	}{}
	for _, n := range names {
		p := e.iam.saml[n]
		out.SAMLProviderList = append(out.SAMLProviderList, entry{p.arn, iamTime(p.validUntil), iamTime(p.created)})
	}
	return out, nil
}

func (e *Emulator) tagSAMLProvider(f form) (any, error) {
	p, err := e.samlFor(f)
	if err != nil {
		return nil, err
	}
	tags := f.tagList("Tags")
	if err := validateTags(serviceIAM, tags, true); err != nil {
		return nil, err
	}
	merged := mergeTags(p.tags, tags, true)
	if len(merged) > maxTags {
		return nil, iamErr("LimitExceeded", "Cannot exceed quota for TagsPerSAMLProvider: %d", maxTags)
	}
	p.tags = merged
	return nil, nil
}

func (e *Emulator) untagSAMLProvider(f form) (any, error) {
	p, err := e.samlFor(f)
	if err != nil {
		return nil, err
	}
	keys := f.stringList("TagKeys")
	if err := validateTagKeys(serviceIAM, keys); err != nil {
		return nil, err
	}
	p.tags = removeTags(p.tags, keys, true)
	return nil, nil
}

func (e *Emulator) listSAMLProviderTags(f form) (any, error) {
	p, err := e.samlFor(f)
	if err != nil {
		return nil, err
	}
	return e.tagsPage(f, p.tags)
}
