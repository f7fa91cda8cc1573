package devidp

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strings"

	crewjam "github.com/crewjam/saml"
)

// signingCerts reads the entity ID and the signing certificates of an
// IdP's metadata: the bridge's, as the IAM SAML provider would hold it.
func signingCerts(md []byte) (string, []*x509.Certificate, error) {
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		return "", nil, fmt.Errorf("the bridge's IdP metadata: %w", err)
	}
	var certs []*x509.Certificate
	for _, idp := range ed.IDPSSODescriptors {
		for _, kd := range idp.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Data), ""))
				if err == nil {
					var c *x509.Certificate
					if c, err = x509.ParseCertificate(der); err == nil {
						certs = append(certs, c)
					}
				}
				if err != nil {
					return "", nil, fmt.Errorf("the bridge's IdP metadata: certificate: %w", err)
				}
			}
		}
	}
	if len(certs) == 0 {
		return "", nil, fmt.Errorf("the bridge's IdP metadata (%s) has no signing certificate", ed.EntityID)
	}
	return ed.EntityID, certs, nil
}
