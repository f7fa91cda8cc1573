package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/devidp"
	bridgesaml "github.com/sagebridge/sagebridge/internal/saml"
)

// acsPath is the bridge's assertion consumer service, where the test IdP
// posts (internal/saml serves it).
const acsPath = "/saml/sp/acs"

// devBaseURL is where dev mode serves sign-in: the public listener as
// bound, so that a port chosen at start (--listen 127.0.0.1:0) is the one
// in every URL. It is empty outside dev mode.
func devBaseURL(dev bool, public net.Addr) string {
	if !dev {
		return ""
	}
	return "http://" + public.String()
}

// devSignInConfig is cfg with sign-in served at base, and the upstream IdP
// the test IdP on the same listener: dev.yaml names 127.0.0.1:8080.
func devSignInConfig(cfg *config.Config, base string) *config.Config {
	c, s := *cfg, *cfg.SAML
	s.BaseURL = base
	s.SP.UpstreamMetadata.URL = base + devidp.MetadataPath
	c.SAML = &s
	return &c
}

// newDevSignIn builds /dev/: the test IdP, which signs users in to the
// bridge o describes, and the AWS stand-in the bridge posts to.
func newDevSignIn(ctx context.Context, o bridgesaml.Options, b *bridgesaml.Bridge, logger *slog.Logger) (http.Handler, error) {
	cfg := o.Config.SAML
	logger = logger.With("component", "devidp")
	idp, err := devidp.New(ctx, devidp.Options{
		Store: o.Store, Mapping: o.Mapping, BaseURL: cfg.BaseURL,
		ACSURL: cfg.BaseURL + acsPath, Audience: cfg.SPEntityID(), Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(devidp.UsersPath, idp.Handler())
	mux.Handle("POST "+devidp.AWSSignInPath, &devidp.AWSSignIn{URL: b.SignInURL(), Metadata: b.Metadata, Logger: logger})
	return mux, nil
}
