package config

import (
	"path/filepath"
	"testing"
	"time"
)

// withSAML returns a file with valid aws and mapping sections and a saml
// section whose body (indented by two) starts on line 10.
func withSAML(body string) string {
	return withMapping("  userId: user.userName\n"+oneTeam) + "saml:\n" + body
}

const samlBase = "  baseURL: https://bridge.example.com\n  sp:\n    upstreamMetadata: {url: https://idp.example.com/md}\n"

func TestSAMLDefaults(t *testing.T) {
	c, err := Parse("/etc/sagebridge/c.yaml", []byte(withSAML(samlBase)))
	if err != nil {
		t.Fatal(err)
	}
	s := c.SAML
	checks := []struct {
		name      string
		got, want any
	}{
		{"sp entity id", s.SPEntityID(), "https://bridge.example.com/saml/sp/metadata"},
		{"idp entity id", s.IdPEntityID(), "https://bridge.example.com/saml/idp/metadata"},
		{"sign-in url", s.SignInURL(c.AWS), "https://signin.aws.amazon.com/saml"},
		{"refresh", s.SP.UpstreamMetadata.RefreshInterval.Duration, time.Hour},
		{"lookup", s.SP.UserLookup, UserLookup{Match: LookupUserName}},
		{"skew", s.SP.ClockSkew.Duration, 2 * time.Minute},
		{"idp-initiated", s.SP.AllowIdPInitiated, false},
		{"body", s.SP.MaxResponseBytes, int64(256 << 10)},
		{"lifetime", s.IdP.AssertionLifetime.Duration, 5 * time.Minute},
		{"rotation delay", s.IdP.Keys.RotationDelay.Duration, 24 * time.Hour},
		{"sign response", s.IdP.SignResponse, false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestSAMLRelativeFiles(t *testing.T) {
	src := withSAML("  baseURL: https://b.example.com\n  sp:\n    upstreamMetadata: {file: idp.xml}\n  idp:\n    keys: {keyFile: /abs/k.pem, certFile: c.pem}\n")
	c, err := Parse("/etc/sagebridge/c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.SAML.SP.UpstreamMetadata.File, filepath.FromSlash("/etc/sagebridge/idp.xml"); got != want {
		t.Errorf("metadata file = %q, want %q", got, want)
	}
	if got := c.SAML.IdP.Keys.KeyFile; got != "/abs/k.pem" {
		t.Errorf("absolute key file changed to %q", got)
	}
	if got, want := c.SAML.IdP.Keys.CertFile, filepath.FromSlash("/etc/sagebridge/c.pem"); got != want {
		t.Errorf("cert file = %q, want %q", got, want)
	}
}

func TestSAMLSignInURL(t *testing.T) {
	tests := []struct {
		partition, region, destination, want string
	}{
		{"aws", "eu-west-1", "", "https://signin.aws.amazon.com/saml"},
		{"aws", "eu-west-1", "global", "https://signin.aws.amazon.com/saml"},
		{"aws", "eu-west-1", "regional", "https://eu-west-1.signin.aws.amazon.com/saml"},
		{"aws", "us-east-1", "regional", "https://signin.aws.amazon.com/saml"},
		{"aws-us-gov", "us-gov-west-1", "", "https://signin.amazonaws-us-gov.com/saml"},
		{"aws-us-gov", "us-gov-west-1", "govcloud", "https://signin.amazonaws-us-gov.com/saml"},
		{"aws-cn", "cn-north-1", "china", "https://signin.amazonaws.cn/saml"},
		{"aws-cn", "cn-north-1", "", "https://signin.amazonaws.cn/saml"},
		{"aws", "eu-west-1", "https://eu-west-1.signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46", "https://eu-west-1.signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46"},
	}
	for _, tt := range tests {
		s := &SAML{IdP: SAMLIdP{Destination: tt.destination}}
		if got := s.SignInURL(&AWS{Partition: tt.partition, Region: tt.region}); got != tt.want {
			t.Errorf("%s/%s/%q: SignInURL = %s, want %s", tt.partition, tt.region, tt.destination, got, tt.want)
		}
	}
}

func TestSAMLValidation(t *testing.T) {
	sp := func(more string) string {
		return withSAML("  baseURL: https://b.example.com\n  sp:\n    upstreamMetadata: {url: https://idp.example.com/md}\n" + more)
	}
	idp := func(more string) string {
		return withSAML("  baseURL: https://b.example.com\n  sp:\n    upstreamMetadata: {url: https://idp.example.com/md}\n  idp:\n" + more)
	}
	tests := []struct {
		name, src, want string
	}{
		{"no mapping", "saml:\n" + samlBase, "c.yaml:2: saml: needs the aws and mapping sections"},
		{"base missing", withSAML("  sp:\n    upstreamMetadata: {url: https://idp.example.com/md}\n"), "c.yaml:10: saml.baseURL: is required: an absolute https URL"},
		{"base relative", withSAML("  baseURL: /saml\n  sp:\n    upstreamMetadata: {file: m.xml}\n"), `c.yaml:10: saml.baseURL: must be an absolute https URL without query or fragment, got "/saml"`},
		{"base http", withSAML("  baseURL: http://bridge.example.com\n  sp:\n    upstreamMetadata: {url: https://idp.example.com/md}\n"),
			`c.yaml:10: saml.baseURL: must be https (browsers post sign-in responses to it); plain http is allowed on loopback only, got "http://bridge.example.com"`},
		{"metadata missing", withSAML("  baseURL: https://b.example.com\n"), "c.yaml:10: saml.sp.upstreamMetadata: needs url or file"},
		{"metadata both", withSAML("  baseURL: https://b.example.com\n  sp:\n    upstreamMetadata: {url: https://i.example.com/m, file: m.xml}\n"),
			"c.yaml:12: saml.sp.upstreamMetadata: has both url and file; give one"},
		{"metadata http", withSAML("  baseURL: https://b.example.com\n  sp:\n    upstreamMetadata: {url: http://i.example.com/m}\n"),
			`c.yaml:12: saml.sp.upstreamMetadata.url: must be https (the metadata holds the keys sign-ins are trusted by); http is allowed on loopback only`},
		{"metadata fragment", withSAML("  baseURL: https://b.example.com\n  sp:\n    upstreamMetadata: {url: 'https://i.example.com/m#x'}\n"),
			`c.yaml:12: saml.sp.upstreamMetadata.url: must be an absolute https URL without fragment, got "https://i.example.com/m#x"`},
		{"refresh short", withSAML("  baseURL: https://b.example.com\n  sp:\n    upstreamMetadata: {url: https://i.example.com/m, refreshInterval: 10s}\n"),
			"c.yaml:12: saml.sp.upstreamMetadata.refreshInterval: must be at least 1m0s, got 10s"},
		{"lookup match", sp("    userLookup: {match: mail}\n"), `c.yaml:13: saml.sp.userLookup.match: must be one of userName, email, got "mail"`},
		{"lookup attribute spaces", sp("    userLookup: {attribute: ' email'}\n"), `c.yaml:13: saml.sp.userLookup.attribute: must not have surrounding spaces, got " email"`},
		{"skew negative", sp("    clockSkew: -1s\n"), "c.yaml:13: saml.sp.clockSkew: must be from 0s to 10m0s, got -1s"},
		{"skew large", sp("    clockSkew: 11m\n"), "c.yaml:13: saml.sp.clockSkew: must be from 0s to 10m0s, got 11m0s"},
		{"body small", sp("    maxResponseBytes: 100\n"), "c.yaml:13: saml.sp.maxResponseBytes: must be from 4096 (4 KiB) to 4194304 (4 MiB), got 100"},
		{"destination bad", idp("    destination: eu\n"), `c.yaml:14: saml.idp.destination: must be one of global, regional, govcloud, china, or an https URL`},
		{"destination partition", idp("    destination: china\n"), "c.yaml:14: saml.idp.destination: china serves partition aws-cn, but aws.partition is aws"},
		{"lifetime long", idp("    assertionLifetime: 10m\n"), "c.yaml:14: saml.idp.assertionLifetime: must be from 1m to 5m0s, got 10m0s"},
		{"cert without key", idp("    keys: {certFile: c.pem}\n"), "c.yaml:14: saml.idp.keys.keyFile: is required with saml.idp.keys.certFile"},
		{"key without cert", idp("    keys: {keyFile: k.pem}\n"), "c.yaml:14: saml.idp.keys.certFile: is required with saml.idp.keys.keyFile"},
		{"next without current", idp("    keys: {nextKeyFile: k.pem, nextCertFile: c.pem}\n"), "c.yaml:14: saml.idp.keys.nextKeyFile: needs keyFile"},
		{"rotation negative", idp("    keys: {rotationDelay: -1h}\n"), "c.yaml:14: saml.idp.keys.rotationDelay: must not be negative, got -1h0m0s"},
		{"unknown key", sp("    allowIdpInitiated: true\n"), `c.yaml:13: saml.sp.allowIdpInitiated: unknown field; did you mean "allowIdPInitiated"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantOneProblem(t, tt.src, tt.want) })
	}
}

// Entra publishes an application's metadata under a query string.
func TestSAMLMetadataURLWithQuery(t *testing.T) {
	const u = "https://login.microsoftonline.com/tenant-id/federationmetadata/2007-06/federationmetadata.xml?appid=app-id"
	c, err := Parse("c.yaml", []byte(withSAML("  baseURL: https://bridge.example.com\n  sp:\n    upstreamMetadata: {url: '"+u+"'}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SAML.SP.UpstreamMetadata.URL; got != u {
		t.Errorf("url = %q", got)
	}
}
