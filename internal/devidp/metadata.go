package devidp

import (
	"crypto/x509"
	"encoding/xml"
	"fmt"

	crewjam "github.com/crewjam/saml"

	"github.com/sagebridge/sagebridge/internal/samlmeta"
)

// signingCerts reads the entity ID and the signing certificates of an
// IdP's metadata: the bridge's, as the IAM SAML provider would hold it.
func signingCerts(md []byte) (string, []*x509.Certificate, error) {
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		return "", nil, fmt.Errorf("the bridge's IdP metadata: %w", err)
	}
	certs, err := samlmeta.SigningCerts(&ed)
	if err != nil {
		return "", nil, fmt.Errorf("the bridge's IdP metadata (%s): %w", ed.EntityID, err)
	}
	return ed.EntityID, certs, nil
}
