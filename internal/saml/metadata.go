package saml

import (
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
)

const nsMetadata = "urn:oasis:names:tc:SAML:2.0:metadata"

// Metadata returns the bridge's IdP metadata: the document the IAM SAML
// provider holds (the sync keeps it there). It lists every published key,
// so a rotated key is trusted by AWS before it signs (MD-3). The document
// depends only on the configuration and the published keys, never on the
// clock (no validUntil), so the sync sees a change only when there is one.
func (b *Bridge) Metadata() ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", b.idpEntityID)
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "false")
	idp.CreateAttr("protocolSupportEnumeration", nsProtocol)
	for _, k := range b.keys.published() {
		kd := idp.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(k.cert.Raw))
	}
	idp.CreateElement("md:NameIDFormat").SetText(nameIDPersistent)
	sso := idp.CreateElement("md:SingleSignOnService")
	sso.CreateAttr("Binding", crewjam.HTTPRedirectBinding)
	sso.CreateAttr("Location", b.loginURL)
	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("render IdP metadata: %w", err)
	}
	return out, nil
}

func (b *Bridge) serveIdPMetadata(w http.ResponseWriter, r *http.Request) {
	b.serveXML(w, r, b.Metadata)
}

func (b *Bridge) serveSPMetadata(w http.ResponseWriter, r *http.Request) {
	b.serveXML(w, r, func() ([]byte, error) { return spMetadata(&b.sp) })
}

func (b *Bridge) serveXML(w http.ResponseWriter, r *http.Request, render func() ([]byte, error)) {
	out, err := render()
	if err != nil {
		b.log.ErrorContext(r.Context(), "render metadata", "path", r.URL.Path, "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(out)
}
