package saml

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// Routes, all under /saml/.
const (
	spMetadataPath  = "/saml/sp/metadata"
	acsPath         = "/saml/sp/acs"
	loginPath       = "/saml/login"
	choosePath      = "/saml/choose"
	idpMetadataPath = "/saml/idp/metadata"
)

// Options are the Bridge's dependencies.
type Options struct {
	Store store.Store
	// Config must have the saml, aws and mapping sections.
	Config  *config.Config
	Mapping *mapping.Mapping
	// Registry receives the sign-in metrics.
	Registry prometheus.Registerer
	// Logger receives the audit records (message "audit"). Default:
	// discarded.
	Logger *slog.Logger
	// Now is the clock for every time check and timestamp. Default
	// time.Now.
	Now func() time.Time
	// BaseURL overrides saml.baseURL, for a listener whose port is known
	// only once it is bound (dev mode, tests).
	BaseURL string
	// Destination overrides the AWS sign-in URL responses are posted to
	// (their Destination and Recipient, and so SignInURL): dev mode and
	// tests point it at a local page standing in for AWS. saml.idp.
	// destination, which takes AWS endpoints only, is not consulted.
	Destination string
	// HTTPClient fetches the upstream metadata URL. Default: a client
	// with a 30 s timeout.
	HTTPClient *http.Client
	// Rand makes IDs, tokens and keys. Default crypto/rand.
	Rand io.Reader
}

// Bridge is the SAML sign-in bridge.
type Bridge struct {
	cfg         config.SAML
	store       store.Store
	mapping     *mapping.Mapping
	log         *slog.Logger
	now         func() time.Time
	rand        io.Reader
	metrics     *signinMetrics
	keys        *keyRing
	upstream    *upstreamSource
	verifier    *verifier
	sealer      *sealer
	post        *postPage
	sp          crewjam.ServiceProvider
	idpEntityID string
	loginURL    string
	destination string
	secure      bool
	maxBody     int64
}

// New builds the bridge: it loads (or, on first start, generates and
// stores) the signing keys and the cached upstream metadata. It does not
// fetch the metadata URL; Run does, at once and then periodically, so an
// IdP that is down does not stop the daemon from starting.
func New(ctx context.Context, o Options) (*Bridge, error) {
	if o.Store == nil || o.Config == nil || o.Config.SAML == nil || o.Config.AWS == nil || o.Mapping == nil || o.Registry == nil {
		return nil, errors.New("new saml bridge: Store, Config (with saml and aws sections), Mapping and Registry are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	cfg := *o.Config.SAML
	if o.BaseURL != "" {
		cfg.BaseURL = o.BaseURL
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	b := &Bridge{
		cfg: cfg, store: o.Store, mapping: o.Mapping, log: o.Logger, now: o.Now, rand: o.Rand,
		idpEntityID: cfg.IdPEntityID(),
		loginURL:    base + loginPath,
		destination: cmp.Or(o.Destination, cfg.SignInURL(o.Config.AWS)),
		secure:      strings.HasPrefix(base, "https://"),
		maxBody:     cfg.SP.MaxResponseBytes,
		verifier:    &verifier{entityID: cfg.SPEntityID(), acsURL: base + acsPath, skew: cfg.SP.ClockSkew.Duration},
	}
	var err error
	if b.sp, err = newServiceProvider(cfg.SPEntityID(), base+acsPath, base+spMetadataPath); err != nil {
		return nil, fmt.Errorf("new saml bridge: %w", err)
	}
	if b.post, err = newPostPage(b.destination); err != nil {
		return nil, fmt.Errorf("new saml bridge: %w", err)
	}
	if b.metrics, err = newMetrics(o.Registry); err != nil {
		return nil, fmt.Errorf("new saml bridge: %w", err)
	}
	if b.keys, err = newKeyRing(ctx, o.Store, &cfg, o.Now, o.Rand); err != nil {
		return nil, fmt.Errorf("new saml bridge: %w", err)
	}
	if b.sealer, err = newSealer(ctx, o.Store, o.Rand); err != nil {
		return nil, fmt.Errorf("new saml bridge: %w", err)
	}
	b.upstream = &upstreamSource{cfg: cfg.SP.UpstreamMetadata, st: o.Store, client: o.HTTPClient, sp: b.sp}
	if err := b.upstream.loadCached(ctx); err != nil {
		b.log.WarnContext(ctx, "cached upstream metadata unusable; waiting for a refresh", "err", err)
	}
	return b, nil
}

func newSealer(ctx context.Context, st store.Store, rnd io.Reader) (*sealer, error) {
	fresh := make([]byte, 32)
	if _, err := io.ReadFull(rnd, fresh); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	key, err := st.InitSAMLMeta(ctx, tokenKeyName, fresh)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return &sealer{key: key}, nil
}

// Handler serves every /saml/ route:
//
//	GET  /saml/sp/metadata   SP metadata for the company IdP
//	POST /saml/sp/acs        assertion consumer service (HTTP-POST)
//	GET  /saml/login         SP-initiated sign-in (?RelayState= kept)
//	POST /saml/choose        the team picker's answer
//	GET  /saml/idp/metadata  IdP metadata for the IAM SAML provider
func (b *Bridge) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+spMetadataPath, b.serveSPMetadata)
	mux.HandleFunc("POST "+acsPath, b.serveACS)
	mux.HandleFunc("GET "+loginPath, b.serveLogin)
	mux.HandleFunc("POST "+choosePath, b.serveChoose)
	mux.HandleFunc("GET "+idpMetadataPath, b.serveIdPMetadata)
	return mux
}

// SignInURL is where responses go: the Recipient, and so the value the
// federation roles' SAML:aud condition must allow (TRUST-1).
func (b *Bridge) SignInURL() string { return b.destination }

// Rotate adds a new signing key. It is published in Metadata at once and
// signs from now + saml.idp.keys.rotationDelay; the key it replaces stays
// published until the assertions it signed have expired. It fails with
// ErrRotationPending while a previous rotation waits, and with
// ErrKeysFromFiles when the keys come from PEM files.
func (b *Bridge) Rotate(ctx context.Context) (Rotation, error) {
	rot, err := b.keys.rotate(ctx)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate signing key: %w", err)
	}
	b.log.InfoContext(ctx, "audit", "event", "saml_key_rotated", "key_id", rot.KeyID, "sign_from", rot.SignFrom)
	return rot, nil
}
