package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// SAML configures federated sign-in: the bridge is a service provider
// towards the company's identity provider and an identity provider towards
// AWS sign-in.
type SAML struct {
	// BaseURL is the bridge's public URL as browsers reach it; every /saml/
	// endpoint hangs off it.
	BaseURL string  `yaml:"baseURL"`
	SP      SAMLSP  `yaml:"sp"`
	IdP     SAMLIdP `yaml:"idp"`
}

// SAMLSP is the service provider side, towards the company IdP.
type SAMLSP struct {
	// EntityID is the SP's entity ID; default BaseURL + /saml/sp/metadata.
	EntityID         string           `yaml:"entityId"`
	UpstreamMetadata UpstreamMetadata `yaml:"upstreamMetadata"`
	UserLookup       UserLookup       `yaml:"userLookup"`
	// ClockSkew is how far the IdP's clock may be from the bridge's.
	ClockSkew Duration `yaml:"clockSkew"`
	// AllowIdPInitiated accepts responses nobody asked for (a tile in the
	// IdP's dashboard). Off, only SP-initiated sign-ins (/saml/login) work.
	AllowIdPInitiated bool `yaml:"allowIdPInitiated"`
	// MaxResponseBytes caps the ACS request body.
	MaxResponseBytes int64 `yaml:"maxResponseBytes"`
}

// UpstreamMetadata says where the company IdP's metadata comes from:
// exactly one of URL and File.
type UpstreamMetadata struct {
	URL             string   `yaml:"url"`
	File            string   `yaml:"file"`
	RefreshInterval Duration `yaml:"refreshInterval"`
}

// UserLookup says how a signed-in subject is found in the store: the NameID
// (Attribute empty) or the named SAML attribute, matched case-insensitively
// against the users' userName or email.
type UserLookup struct {
	Attribute string `yaml:"attribute"`
	Match     string `yaml:"match"`
}

// SAMLIdP is the identity provider side, towards AWS sign-in.
type SAMLIdP struct {
	// EntityID is the issuer AWS knows; default BaseURL + /saml/idp/metadata.
	EntityID string `yaml:"entityId"`
	// Destination is where responses go: global, regional, govcloud,
	// china, or an https URL. Empty: the partition's global endpoint.
	Destination string `yaml:"destination"`
	// SignResponse signs the Response as well as the Assertion.
	SignResponse bool `yaml:"signResponse"`
	// AssertionLifetime is NotOnOrAfter - IssueInstant of the assertions
	// issued to AWS.
	AssertionLifetime Duration `yaml:"assertionLifetime"`
	Keys              SAMLKeys `yaml:"keys"`
}

// SAMLKeys are the IdP signing keys: generated and kept in the store when
// KeyFile is empty, otherwise read from PEM files.
type SAMLKeys struct {
	KeyFile  string `yaml:"keyFile"`
	CertFile string `yaml:"certFile"`
	// NextKeyFile and NextCertFile are published in the metadata beside
	// the current key, so that AWS trusts them before they sign.
	NextKeyFile  string `yaml:"nextKeyFile"`
	NextCertFile string `yaml:"nextCertFile"`
	// RotationDelay is how long a rotated key is published before it signs
	// (stored keys only): long enough for the sync to push the metadata to
	// the IAM SAML provider.
	RotationDelay Duration `yaml:"rotationDelay"`
}

// Defaults and limits of the saml section.
const (
	DefaultMetadataRefresh   = time.Hour
	DefaultClockSkew         = 2 * time.Minute
	DefaultMaxResponseBytes  = 256 << 10
	DefaultAssertionLifetime = 5 * time.Minute
	DefaultRotationDelay     = 24 * time.Hour
	maxClockSkew             = 10 * time.Minute
	maxAssertionLifetime     = 5 * time.Minute // aws-saml-requirements TIME-2
	minMetadataRefresh       = time.Minute
	minResponseBytes         = 4 << 10
	maxResponseBytes         = 4 << 20

	LookupUserName = "userName"
	LookupEmail    = "email"
)

// AWS sign-in destinations by name (aws-saml-requirements ENV-6).
const (
	DestinationGlobal   = "global"
	DestinationRegional = "regional"
	DestinationGovCloud = "govcloud"
	DestinationChina    = "china"
)

var (
	lookupMatches = []string{LookupUserName, LookupEmail}
	// destinationPartition is the partition each named destination serves.
	destinationPartition = map[string]string{
		DestinationGlobal: "aws", DestinationRegional: "aws", DestinationGovCloud: "aws-us-gov", DestinationChina: "aws-cn",
	}
	// partitionDestination is the default destination of each partition.
	partitionDestination = map[string]string{
		"aws": DestinationGlobal, "aws-us-gov": DestinationGovCloud, "aws-cn": DestinationChina,
	}
)

func (s *SAML) setDefaults() {
	*s = SAML{
		SP: SAMLSP{
			UpstreamMetadata: UpstreamMetadata{RefreshInterval: Duration{DefaultMetadataRefresh}},
			UserLookup:       UserLookup{Match: LookupUserName},
			ClockSkew:        Duration{DefaultClockSkew},
			MaxResponseBytes: DefaultMaxResponseBytes,
		},
		IdP: SAMLIdP{
			AssertionLifetime: Duration{DefaultAssertionLifetime},
			Keys:              SAMLKeys{RotationDelay: Duration{DefaultRotationDelay}},
		},
	}
}

// SPEntityID is the configured SP entity ID or its default.
func (s *SAML) SPEntityID() string {
	return cmpOr(s.SP.EntityID, strings.TrimSuffix(s.BaseURL, "/")+"/saml/sp/metadata")
}

// IdPEntityID is the configured IdP entity ID (the Issuer AWS checks) or
// its default.
func (s *SAML) IdPEntityID() string {
	return cmpOr(s.IdP.EntityID, strings.TrimSuffix(s.BaseURL, "/")+"/saml/idp/metadata")
}

// SignInURL is the AWS sign-in endpoint responses are posted to, and so the
// Recipient, which the federation roles' SAML:aud condition must list.
func (s *SAML) SignInURL(a *AWS) string {
	switch d := cmpOr(s.IdP.Destination, partitionDestination[a.Partition]); d {
	case DestinationGlobal:
		return "https://signin.aws.amazon.com/saml"
	case DestinationRegional:
		if a.Region == "us-east-1" { // the one region without a prefix (ENV-6)
			return "https://signin.aws.amazon.com/saml"
		}
		return "https://" + a.Region + ".signin.aws.amazon.com/saml"
	case DestinationGovCloud:
		return "https://signin.amazonaws-us-gov.com/saml"
	case DestinationChina:
		return "https://signin.amazonaws.cn/saml"
	default:
		return d
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// resolvePaths anchors relative file names at the configuration file's
// directory, as dataDir is.
func (s *SAML) resolvePaths(dir string) {
	anchor(dir, &s.SP.UpstreamMetadata.File, &s.IdP.Keys.KeyFile, &s.IdP.Keys.CertFile,
		&s.IdP.Keys.NextKeyFile, &s.IdP.Keys.NextCertFile)
}

// anchor makes relative file paths relative to dir, the configuration
// file's directory, so a file means the same wherever the daemon starts.
func anchor(dir string, paths ...*string) {
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func (s *SAML) validate(v *validator, a *AWS, hasMapping bool) {
	if a == nil || !hasMapping {
		v.add("saml", "needs the aws and mapping sections: sign-in issues the roles and tags the mapping derives")
	}
	baseOK := v.httpURL("saml.baseURL", s.BaseURL, true, false)
	if baseOK && strings.HasPrefix(s.BaseURL, "http://") && !loopbackURL(s.BaseURL) {
		v.add("saml.baseURL", fmt.Sprintf("must be https (browsers post sign-in responses to it); plain http is allowed on loopback only, got %q", s.BaseURL))
	}
	if s.SP.EntityID != "" && strings.TrimSpace(s.SP.EntityID) != s.SP.EntityID {
		v.add("saml.sp.entityId", fmt.Sprintf("must not have surrounding spaces, got %q", s.SP.EntityID))
	}
	s.SP.UpstreamMetadata.validate(v)
	if s.SP.UserLookup.Attribute != "" && strings.TrimSpace(s.SP.UserLookup.Attribute) != s.SP.UserLookup.Attribute {
		v.add("saml.sp.userLookup.attribute", fmt.Sprintf("must not have surrounding spaces, got %q", s.SP.UserLookup.Attribute))
	}
	v.oneOf("saml.sp.userLookup.match", s.SP.UserLookup.Match, lookupMatches, false)
	if d := s.SP.ClockSkew.Duration; d < 0 || d > maxClockSkew {
		v.add("saml.sp.clockSkew", fmt.Sprintf("must be from 0s to %s, got %s", maxClockSkew, s.SP.ClockSkew))
	}
	if n := s.SP.MaxResponseBytes; n < minResponseBytes || n > maxResponseBytes {
		v.add("saml.sp.maxResponseBytes", fmt.Sprintf("must be from %d (4 KiB) to %d (4 MiB), got %d", minResponseBytes, maxResponseBytes, n))
	}
	if s.IdP.EntityID != "" && strings.TrimSpace(s.IdP.EntityID) != s.IdP.EntityID {
		v.add("saml.idp.entityId", fmt.Sprintf("must not have surrounding spaces, got %q", s.IdP.EntityID))
	}
	s.IdP.validateDestination(v, a)
	if d := s.IdP.AssertionLifetime.Duration; d < time.Minute || d > maxAssertionLifetime {
		v.add("saml.idp.assertionLifetime", fmt.Sprintf("must be from 1m to %s, got %s", maxAssertionLifetime, s.IdP.AssertionLifetime))
	}
	s.IdP.Keys.validate(v)
}

func (u *UpstreamMetadata) validate(v *validator) {
	switch {
	case u.URL == "" && u.File == "":
		v.add("saml.sp.upstreamMetadata", "needs url or file: the identity provider's SAML metadata")
	case u.URL != "" && u.File != "":
		v.add("saml.sp.upstreamMetadata", "has both url and file; give one")
	case u.URL != "":
		// Entra publishes an app's metadata at .../federationmetadata.xml?appid=ID.
		if v.httpURL("saml.sp.upstreamMetadata.url", u.URL, false, true) && strings.HasPrefix(u.URL, "http://") && !loopbackURL(u.URL) {
			v.add("saml.sp.upstreamMetadata.url", fmt.Sprintf("must be https (the metadata holds the keys sign-ins are trusted by); http is allowed on loopback only, got %q", u.URL))
		}
	}
	if u.RefreshInterval.Duration < minMetadataRefresh {
		v.add("saml.sp.upstreamMetadata.refreshInterval", fmt.Sprintf("must be at least %s, got %s", minMetadataRefresh, u.RefreshInterval))
	}
}

func (p *SAMLIdP) validateDestination(v *validator, a *AWS) {
	d := p.Destination
	if part, named := destinationPartition[d]; named {
		if a != nil && a.Partition != part {
			v.add("saml.idp.destination", fmt.Sprintf("%s serves partition %s, but aws.partition is %s", d, part, a.Partition))
		}
		return
	}
	if d == "" {
		return
	}
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		v.add("saml.idp.destination", fmt.Sprintf("must be one of global, regional, govcloud, china, or an https URL such as https://eu-west-1.signin.aws.amazon.com/saml, got %q", d))
	}
}

func (k *SAMLKeys) validate(v *validator) {
	pairs := []struct{ key, cert, keyField, certField string }{
		{k.KeyFile, k.CertFile, "saml.idp.keys.keyFile", "saml.idp.keys.certFile"},
		{k.NextKeyFile, k.NextCertFile, "saml.idp.keys.nextKeyFile", "saml.idp.keys.nextCertFile"},
	}
	for _, p := range pairs {
		switch {
		case p.key != "" && p.cert == "":
			v.add(p.certField, "is required with "+p.keyField)
		case p.key == "" && p.cert != "":
			v.add(p.keyField, "is required with "+p.certField)
		}
	}
	if k.KeyFile == "" && k.NextKeyFile != "" {
		v.add("saml.idp.keys.nextKeyFile", "needs keyFile: a next key from a file only makes sense beside a current one from a file")
	}
	if k.RotationDelay.Duration < 0 {
		v.add("saml.idp.keys.rotationDelay", fmt.Sprintf("must not be negative, got %s", k.RotationDelay))
	}
}

// httpURL checks an absolute http(s) URL without fragment, and without
// query unless query is allowed.
func (v *validator) httpURL(field, value string, required, query bool) bool {
	if value == "" {
		if required {
			v.add(field, "is required: an absolute https URL")
		}
		return false
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.RawQuery != "" && !query) || u.Fragment != "" {
		what := "without query or fragment"
		if query {
			what = "without fragment"
		}
		v.add(field, fmt.Sprintf("must be an absolute https URL %s, got %q", what, value))
		return false
	}
	return true
}

// loopbackURL reports whether an http URL points at this machine, where
// dev mode runs without TLS.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}
