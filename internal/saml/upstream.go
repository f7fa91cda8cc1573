package saml

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"

	crewjam "github.com/crewjam/saml"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/samlmeta"
	"github.com/sagebridge/sagebridge/internal/store"
)

// metaCacheName is where the last good upstream metadata is kept, so that
// a restart while the IdP's metadata URL is down still signs people in.
const metaCacheName = "upstream_metadata"

// maxMetadataBytes bounds what is read from the metadata source.
const maxMetadataBytes = 4 << 20

// upstream is one loaded version of the company IdP's metadata.
type upstream struct {
	entityID string
	certs    []*x509.Certificate
	// ssoURL is the IdP's SingleSignOnService for the Redirect binding;
	// empty when it has none (IdP-initiated sign-in only).
	ssoURL string
	sp     *crewjam.ServiceProvider
}

// upstreamSource loads, caches and refreshes the upstream metadata.
type upstreamSource struct {
	cfg    config.UpstreamMetadata
	st     store.Store
	client *http.Client
	// sp is the template of the crewjam ServiceProvider; each load gets a
	// copy pointing at its metadata.
	sp  crewjam.ServiceProvider
	cur atomic.Pointer[upstream]
}

// get returns the loaded metadata, nil before the first successful load.
func (u *upstreamSource) get() *upstream { return u.cur.Load() }

// loadCached installs the metadata last stored, if any. A damaged cache is
// reported, not fatal: the next refresh replaces it.
func (u *upstreamSource) loadCached(ctx context.Context) error {
	data, err := u.st.SAMLMeta(ctx, metaCacheName)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	up, err := u.parse(data)
	if err != nil {
		return fmt.Errorf("cached upstream metadata: %w", err)
	}
	u.cur.Store(up)
	return nil
}

// refresh fetches the metadata from its source, and on success installs
// it and stores it as the cache.
func (u *upstreamSource) refresh(ctx context.Context) error {
	data, err := u.fetch(ctx)
	if err != nil {
		return err
	}
	up, err := u.parse(data)
	if err != nil {
		return err
	}
	if err := u.st.PutSAMLMeta(ctx, metaCacheName, data); err != nil {
		return fmt.Errorf("cache upstream metadata: %w", err)
	}
	u.cur.Store(up)
	return nil
}

func (u *upstreamSource) fetch(ctx context.Context) ([]byte, error) {
	if u.cfg.File != "" {
		f, err := os.Open(u.cfg.File)
		if err != nil {
			return nil, fmt.Errorf("read upstream metadata: %w", err)
		}
		defer f.Close()
		return readLimited(f, u.cfg.File)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("upstream metadata request: %w", err)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch upstream metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch upstream metadata %s: HTTP %s", u.cfg.URL, resp.Status)
	}
	return readLimited(resp.Body, u.cfg.URL)
}

func readLimited(r io.Reader, from string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upstream metadata %s: %w", from, err)
	}
	if len(data) > maxMetadataBytes {
		return nil, fmt.Errorf("upstream metadata %s is larger than %d bytes", from, maxMetadataBytes)
	}
	return data, nil
}

// parse reads an EntityDescriptor (or an EntitiesDescriptor holding
// exactly one IdP) and takes the signing certificates and the SSO URL.
func (u *upstreamSource) parse(data []byte) (*upstream, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if err := checkXML(data); err != nil {
		return nil, fmt.Errorf("upstream metadata: %w", err)
	}
	ed, err := entityDescriptor(data)
	if err != nil {
		return nil, err
	}
	if ed.EntityID == "" {
		return nil, errors.New("upstream metadata: the EntityDescriptor has no entityID")
	}
	certs, err := samlmeta.SigningCerts(ed)
	if err != nil {
		return nil, fmt.Errorf("upstream metadata for %s: %w", ed.EntityID, err)
	}
	up := &upstream{entityID: ed.EntityID, certs: certs}
	for _, idp := range ed.IDPSSODescriptors {
		for _, sso := range idp.SingleSignOnServices {
			if sso.Binding == crewjam.HTTPRedirectBinding && up.ssoURL == "" {
				up.ssoURL = sso.Location
			}
		}
	}
	sp := u.sp
	sp.IDPMetadata = ed
	up.sp = &sp
	return up, nil
}

func entityDescriptor(data []byte) (*crewjam.EntityDescriptor, error) {
	var ed crewjam.EntityDescriptor
	errOne := xml.Unmarshal(data, &ed)
	if errOne == nil && len(ed.IDPSSODescriptors) > 0 {
		return &ed, nil
	}
	var eds crewjam.EntitiesDescriptor
	if err := xml.Unmarshal(data, &eds); err != nil {
		if errOne != nil {
			return nil, fmt.Errorf("upstream metadata: %w", errOne)
		}
		return nil, errors.New("upstream metadata: the EntityDescriptor has no IDPSSODescriptor")
	}
	var found []crewjam.EntityDescriptor
	for _, e := range eds.EntityDescriptors {
		if len(e.IDPSSODescriptors) > 0 {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("upstream metadata: %d identity providers in the EntitiesDescriptor, want exactly 1", len(found))
	}
	return &found[0], nil
}

// newServiceProvider is the crewjam ServiceProvider the bridge is towards
// the company IdP; it makes the AuthnRequests and the SP metadata.
func newServiceProvider(entityID, acsURL, metadataURL string) (crewjam.ServiceProvider, error) {
	acs, err := url.Parse(acsURL)
	if err != nil {
		return crewjam.ServiceProvider{}, fmt.Errorf("acs url: %w", err)
	}
	md, err := url.Parse(metadataURL)
	if err != nil {
		return crewjam.ServiceProvider{}, fmt.Errorf("metadata url: %w", err)
	}
	return crewjam.ServiceProvider{
		EntityID:    entityID,
		AcsURL:      *acs,
		MetadataURL: *md,
		// Whatever NameID the IdP is set up to send: the lookup decides
		// what it must match.
		AuthnNameIDFormat: crewjam.UnspecifiedNameIDFormat,
	}, nil
}

// spMetadata renders the SP metadata: POST binding ACS only (crewjam
// also lists an artifact endpoint, which the bridge does not serve).
func spMetadata(sp *crewjam.ServiceProvider) ([]byte, error) {
	ed := sp.Metadata()
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		d.AssertionConsumerServices = d.AssertionConsumerServices[:1]
	}
	out, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render SP metadata: %w", err)
	}
	return append([]byte(xml.Header), bytes.TrimSpace(out)...), nil
}
