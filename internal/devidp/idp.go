package devidp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// Routes, all under /dev/.
const (
	UsersPath    = "/dev/"
	MetadataPath = "/dev/idp/metadata"
	SignInPath   = "/dev/idp/signin"
	SSOPath      = "/dev/idp/sso"
)

// assertionLifetime is how long the IdP's assertions are valid.
const assertionLifetime = 5 * time.Minute

// Options are what the IdP needs.
type Options struct {
	// Store is read for the users page and holds the IdP's key.
	Store store.Store
	// Mapping names each user's teams on the users page.
	Mapping *mapping.Mapping
	// BaseURL is where /dev/ is served (http://host:port); the IdP's
	// entity ID is its metadata URL.
	BaseURL string
	// ACSURL is the bridge's assertion consumer service, and Audience its
	// SP entity ID.
	ACSURL, Audience string
	Logger           *slog.Logger
	// Now is the clock of the assertions. Default time.Now.
	Now func() time.Time
}

// IdP is the test identity provider.
type IdP struct {
	o        Options
	entityID string
	signer   *signer
}

// New loads (at first start, generates) the IdP's key.
func New(ctx context.Context, o Options) (*IdP, error) {
	if o.Store == nil || o.Mapping == nil || o.BaseURL == "" || o.ACSURL == "" || o.Audience == "" {
		return nil, errors.New("new dev IdP: Store, Mapping, BaseURL, ACSURL and Audience are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s, err := loadSigner(ctx, o.Store, o.Now())
	if err != nil {
		return nil, err
	}
	return &IdP{o: o, entityID: strings.TrimSuffix(o.BaseURL, "/") + MetadataPath, signer: s}, nil
}

// EntityID is the IdP's entity ID: its metadata URL.
func (p *IdP) EntityID() string { return p.entityID }

// Handler serves the IdP's routes:
//
//	GET  /dev/              the users, each with a "Sign in as" button
//	GET  /dev/idp/sso       an SP-initiated sign-in: the bridge's AuthnRequest, then the users
//	GET  /dev/idp/metadata  the IdP's metadata
//	POST /dev/idp/signin    userName=...: post a signed Response for it to the ACS
func (p *IdP) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+UsersPath+"{$}", p.serveUsers)
	mux.HandleFunc("GET "+SSOPath, p.serveSSO)
	mux.HandleFunc("GET "+MetadataPath, p.serveMetadata)
	mux.HandleFunc("POST "+SignInPath, p.serveSignIn)
	return mux
}

// Metadata is the IdP's metadata: its entity ID, signing certificate and
// single sign-on service (Redirect binding), where the bridge's
// /saml/login sends the browser.
func (p *IdP) Metadata() ([]byte, error) {
	ed := crewjam.EntityDescriptor{
		EntityID: p.entityID,
		IDPSSODescriptors: []crewjam.IDPSSODescriptor{{
			SSODescriptor: crewjam.SSODescriptor{RoleDescriptor: crewjam.RoleDescriptor{
				ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
				KeyDescriptors: []crewjam.KeyDescriptor{{Use: "signing", KeyInfo: crewjam.KeyInfo{
					X509Data: crewjam.X509Data{X509Certificates: []crewjam.X509Certificate{{Data: encodeCert(p.signer.cert)}}},
				}}},
			}},
			SingleSignOnServices: []crewjam.Endpoint{{Binding: crewjam.HTTPRedirectBinding, Location: strings.TrimSuffix(p.o.BaseURL, "/") + SSOPath}},
		}},
	}
	out, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render dev IdP metadata: %w", err)
	}
	return append([]byte(xml.Header), out...), nil
}

func (p *IdP) serveMetadata(w http.ResponseWriter, r *http.Request) {
	out, err := p.Metadata()
	if err != nil {
		p.o.Logger.ErrorContext(r.Context(), "dev IdP metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(out)
}

// serveSignIn answers with the auto-submitting form that posts a signed
// Response for the posted userName to the bridge.
func (p *IdP) serveSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	name := strings.TrimSpace(r.PostFormValue("userName"))
	if name == "" {
		http.Error(w, "userName is required", http.StatusBadRequest)
		return
	}
	req := request{InResponseTo: r.PostFormValue("InResponseTo"), RelayState: r.PostFormValue("RelayState")}
	resp, err := p.response(name, req.InResponseTo)
	if err != nil {
		p.o.Logger.ErrorContext(r.Context(), "dev IdP response", "userName", name, "err", err)
		http.Error(w, "could not sign the response", http.StatusInternalServerError)
		return
	}
	p.o.Logger.InfoContext(r.Context(), "dev IdP sign-in", "userName", name, "acs", p.o.ACSURL, "in_response_to", req.InResponseTo)
	if err := writePost(w, p.o.ACSURL, resp, req.RelayState); err != nil {
		p.o.Logger.WarnContext(r.Context(), "write dev IdP form", "err", err)
	}
}
