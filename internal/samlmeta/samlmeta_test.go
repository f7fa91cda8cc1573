package samlmeta

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	crewjam "github.com/crewjam/saml"

	"github.com/sagebridge/sagebridge/internal/testcert"
)

func TestSigningCerts(t *testing.T) {
	a, b := newCert(t, "a.example"), newCert(t, "b.example")
	wrapped := func(c *x509.Certificate) string {
		s := base64.StdEncoding.EncodeToString(c.Raw)
		return "\n    " + s[:40] + "\n    " + s[40:] + "\n  "
	}
	ed := func(kds ...crewjam.KeyDescriptor) *crewjam.EntityDescriptor {
		return &crewjam.EntityDescriptor{IDPSSODescriptors: []crewjam.IDPSSODescriptor{{
			SSODescriptor: crewjam.SSODescriptor{RoleDescriptor: crewjam.RoleDescriptor{KeyDescriptors: kds}},
		}}}
	}
	kd := func(use, data string) crewjam.KeyDescriptor {
		return crewjam.KeyDescriptor{Use: use, KeyInfo: crewjam.KeyInfo{X509Data: crewjam.X509Data{
			X509Certificates: []crewjam.X509Certificate{{Data: data}}}}}
	}
	for _, tt := range []struct {
		name string
		ed   *crewjam.EntityDescriptor
		want []*x509.Certificate
		err  string
	}{
		{name: "signing and unspecified, wrapped", ed: ed(kd("signing", wrapped(a)), kd("", wrapped(b))), want: []*x509.Certificate{a, b}},
		{name: "encryption keys skipped", ed: ed(kd("encryption", wrapped(a)), kd("signing", wrapped(b))), want: []*x509.Certificate{b}},
		{name: "none", ed: ed(kd("encryption", wrapped(a))), err: "no signing certificate"},
		{name: "not base64", ed: ed(kd("signing", "%%%")), err: "illegal base64"},
		{name: "not a certificate", ed: ed(kd("signing", "AAAA")), err: "x509"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SigningCerts(tt.ed)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d certificates, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !got[i].Equal(tt.want[i]) {
					t.Errorf("certificate %d is %s, want %s", i, got[i].Subject, tt.want[i].Subject)
				}
			}
		})
	}
}

func newCert(t *testing.T, cn string) *x509.Certificate {
	certPEM, _ := testcert.New(t, cn)
	block, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
