package devidp

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"

	crewjam "github.com/crewjam/saml"
)

// maxAuthnRequest bounds an inflated AuthnRequest: the bridge's are
// well under 2 KiB, and a deflate bomb must not cost more.
const maxAuthnRequest = 16 << 10

// request is the SP-initiated sign-in a users page answers: echoed in each
// "Sign in as" form so that the Response carries InResponseTo and the
// RelayState goes back to the bridge.
type request struct {
	InResponseTo, RelayState string
}

// serveSSO receives the bridge's AuthnRequest (Redirect binding) and shows
// the users page; the chosen user's Response answers the request.
func (p *IdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, err := p.authnRequestID(q.Get("SAMLRequest"))
	if err != nil {
		p.o.Logger.WarnContext(r.Context(), "dev IdP refused an AuthnRequest", "err", err)
		http.Error(w, "dev IdP: "+err.Error(), http.StatusBadRequest)
		return
	}
	p.renderUsers(w, r, request{InResponseTo: id, RelayState: q.Get("RelayState")})
}

// authnRequestID decodes a Redirect binding SAMLRequest (base64 of raw
// DEFLATE) and returns its ID once it is the bridge's: issued by the SP
// this IdP serves and asking for the response at its ACS.
func (p *IdP) authnRequestID(encoded string) (string, error) {
	if encoded == "" {
		return "", errors.New("SAMLRequest is required: start the sign-in at the bridge's /saml/login")
	}
	deflated, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("SAMLRequest is not base64: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), maxAuthnRequest+1))
	if err != nil {
		return "", fmt.Errorf("SAMLRequest does not inflate: %w", err)
	}
	if len(raw) > maxAuthnRequest {
		return "", fmt.Errorf("SAMLRequest inflates to more than %d bytes", maxAuthnRequest)
	}
	var req crewjam.AuthnRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		return "", fmt.Errorf("SAMLRequest is not an AuthnRequest: %w", err)
	}
	switch {
	case req.ID == "":
		return "", errors.New("the AuthnRequest has no ID")
	case req.Issuer == nil || req.Issuer.Value != p.o.Audience:
		return "", fmt.Errorf("the AuthnRequest is not from the bridge (%s)", p.o.Audience)
	case req.AssertionConsumerServiceURL != "" && req.AssertionConsumerServiceURL != p.o.ACSURL:
		return "", fmt.Errorf("the AuthnRequest asks for the response at %s, not the bridge's ACS %s", req.AssertionConsumerServiceURL, p.o.ACSURL)
	}
	return req.ID, nil
}
