// Package samlmeta reads what SAML metadata says about an IdP's keys, for
// the bridge's sign-in (the company IdP's metadata) and dev mode's AWS
// sign-in stand-in (the bridge's own).
package samlmeta

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	crewjam "github.com/crewjam/saml"
)

// SigningCerts returns the certificates of ed's IdP key descriptors for
// signing (those without a use are for both), in document order. A
// certificate that does not parse is an error, not skipped: it may be the
// one the IdP signs with.
func SigningCerts(ed *crewjam.EntityDescriptor) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, idp := range ed.IDPSSODescriptors {
		for _, kd := range idp.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
				// Metadata wraps base64 in lines and indents it.
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Data), ""))
				if err != nil {
					return nil, fmt.Errorf("certificate: %w", err)
				}
				c, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("certificate: %w", err)
				}
				certs = append(certs, c)
			}
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("no signing certificate")
	}
	return certs, nil
}
