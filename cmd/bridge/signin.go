package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/devidp"
	"github.com/sagebridge/sagebridge/internal/mapping"
	bridgesaml "github.com/sagebridge/sagebridge/internal/saml"
	"github.com/sagebridge/sagebridge/internal/statuspage"
	"github.com/sagebridge/sagebridge/internal/store"
)

// signIn is the daemon's SAML bridge. Without a saml section there is
// none, and reason says so to the log and to the CLI.
type signIn struct {
	b      *bridgesaml.Bridge
	reason string
	// dev serves /dev/ in dev mode: the test IdP and the AWS stand-in.
	dev http.Handler

	cancel context.CancelFunc
	done   chan struct{}
}

// newSignIn builds the bridge; run starts its background work (metadata
// refresh, replay-cache pruning, key reloads). devBase, set in dev mode
// only, is where the public listener really is: sign-in is served there,
// with the test IdP upstream and the AWS stand-in as destination.
func newSignIn(ctx context.Context, cfg *config.Config, st store.Store, reg prometheus.Registerer, logger *slog.Logger, devBase string) (*signIn, error) {
	if cfg.SAML == nil {
		return &signIn{reason: "the configuration has no saml section, so the bridge offers no sign-in"}, nil
	}
	o := bridgesaml.Options{Store: st, Config: cfg, Registry: reg, Logger: logger.With("component", "saml")}
	if devBase != "" {
		o.Config, o.Destination = devSignInConfig(cfg, devBase), devBase+devidp.AWSSignInPath
	}
	var err error
	if o.Mapping, err = mapping.New(o.Config); err != nil {
		return nil, fmt.Errorf("sign-in: build the mapping: %w", err)
	}
	b, err := bridgesaml.New(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	si := &signIn{b: b}
	if devBase != "" {
		if si.dev, err = newDevSignIn(ctx, o, b, logger); err != nil {
			return nil, err
		}
	}
	return si, nil
}

// mount adds the /saml/ routes, and in dev mode /dev/, to the public mux.
func (si *signIn) mount(mux *http.ServeMux) {
	if si.b != nil {
		mux.Handle("/saml/", si.b.Handler())
	}
	if si.dev != nil {
		mux.Handle(devidp.UsersPath, si.dev)
	}
}

func (si *signIn) run(logger *slog.Logger) {
	if si.b == nil {
		logger.Warn("sign-in disabled", "reason", si.reason)
		return
	}
	logger.Info("sign-in enabled", "aws_destination", si.b.SignInURL())
	ctx, cancel := context.WithCancel(context.Background())
	si.cancel, si.done = cancel, make(chan struct{})
	go func() {
		defer close(si.done)
		if err := si.b.Run(ctx); err != nil {
			logger.Error("sign-in background work stopped", "err", err)
		}
	}()
}

func (si *signIn) stop() {
	if si.cancel != nil {
		si.cancel()
		<-si.done
	}
}

// syncOptions are what the sync needs from sign-in: the metadata the IAM
// SAML provider holds, and the sign-in URL the federation roles trust.
func (si *signIn) syncOptions(eo engineOptions) engineOptions {
	if si.b != nil {
		eo.metadata, eo.signInURL = si.b.Metadata, si.b.SignInURL()
	}
	return eo
}

// keys is what the control socket serves for the signing keys. notify is
// told after a rotation, so the sync pushes the new metadata to AWS now
// rather than at the next full resync.
func (si *signIn) keys(notify func(context.Context) error) control.Keys {
	if si.b == nil {
		return control.KeysDisabled(si.reason)
	}
	return bridgeKeys{b: si.b, notify: notify}
}

// credentials lists the signing keys for the status page.
func (si *signIn) credentials(context.Context) ([]statuspage.Credential, error) {
	if si.b == nil {
		return nil, nil
	}
	var out []statuspage.Credential
	for _, k := range si.b.Keys() {
		out = append(out, statuspage.Credential{Kind: "SAML signing key", Name: k.ID, Expires: k.NotAfter,
			Note: keyNote(k)})
	}
	return out, nil
}

func keyNote(k bridgesaml.KeyInfo) string {
	switch k.State {
	case "next":
		return "published; signs from " + k.SignFrom.UTC().Format("2006-01-02 15:04 MST")
	case "previous":
		return "replaced; published while its assertions live"
	}
	return k.State
}

// bridgeKeys serves control.Keys from the bridge.
type bridgeKeys struct {
	b      *bridgesaml.Bridge
	notify func(context.Context) error
}

func (k bridgeKeys) SigningKeys(context.Context) ([]control.KeyInfo, error) {
	var out []control.KeyInfo
	for _, ki := range k.b.Keys() {
		out = append(out, control.KeyInfo{ID: ki.ID, State: ki.State, SignFrom: ki.SignFrom, NotAfter: ki.NotAfter, FromFile: ki.FromFile})
	}
	return out, nil
}

func (k bridgeKeys) RotateKey(ctx context.Context) (control.KeyRotation, error) {
	rot, err := k.b.Rotate(ctx)
	if errors.Is(err, bridgesaml.ErrRotationPending) || errors.Is(err, bridgesaml.ErrKeysFromFiles) {
		return control.KeyRotation{}, fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	if err != nil {
		return control.KeyRotation{}, err
	}
	if k.notify != nil {
		if err := k.notify(ctx); err != nil {
			return control.KeyRotation{}, fmt.Errorf("key %s rotated, but the sync was not told to push the metadata (the next full resync will): %w", rot.KeyID, err)
		}
	}
	return control.KeyRotation{KeyID: rot.KeyID, SignFrom: rot.SignFrom}, nil
}
