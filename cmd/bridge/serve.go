package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/metrics"
	"github.com/sagebridge/sagebridge/internal/scim"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/server"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

type serveOptions struct {
	config      string
	dev         bool
	data        string
	listen      string
	adminListen string
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve (--config FILE | --dev)",
		Short: "Run the daemon",
		Long: `Run the daemon. --dev runs on loopback with a local data directory and
prints a generated SCIM token; --config runs from a configuration file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.dev == (o.config != "") {
				return &exitError{code: 2, err: errors.New("serve needs exactly one of --config FILE or --dev")}
			}
			cfg, err := o.load()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return serve(ctx, cfg, o.dev, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "configuration file")
	f.BoolVar(&o.dev, "dev", false, "development mode: loopback, local data, generated token")
	f.StringVar(&o.data, "data", "", "data directory (overrides the configuration)")
	f.StringVar(&o.listen, "listen", "", "public listener address, SCIM under /scim/v2 (overrides the configuration)")
	f.StringVar(&o.adminListen, "admin-listen", "", "admin listener address: /metrics /healthz /readyz (overrides the configuration)")
	return cmd
}

func (o serveOptions) load() (*config.Config, error) {
	cfg := config.Default()
	if o.dev {
		cfg.Log.Format = "text" // a terminal reads dev mode's log
	}
	if o.config != "" {
		var err error
		if cfg, err = config.Load(o.config); err != nil {
			return nil, err
		}
	}
	if o.data != "" {
		cfg.DataDir = o.data
	}
	if o.listen != "" {
		cfg.Listen = o.listen
	}
	if o.adminListen != "" {
		cfg.AdminListen = o.adminListen
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func serve(ctx context.Context, cfg *config.Config, dev bool, out io.Writer) error {
	logger := newLogger(cfg, os.Stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	exts, err := cfg.ExtensionSchemas()
	if err != nil {
		return err
	}
	ctlLn, err := control.Listen(filepath.Join(cfg.DataDir, control.SocketName))
	if err != nil {
		return err
	}
	st, err := boltstore.Open(filepath.Join(cfg.DataDir, dbName), boltstore.Options{Logger: logger})
	if err != nil {
		ctlLn.Close()
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("close store", "err", err)
		}
		logger.Info("store closed")
	}()

	var devToken string
	if dev {
		if devToken, err = ensureDevToken(ctx, st, cfg.DataDir); err != nil {
			return err
		}
	}

	reg := prometheus.NewRegistry()
	m := metrics.New(reg, st)
	h := &scim.Handler{
		Store: st, Users: schema.NewUserType(exts...), Groups: schema.NewGroupType(),
		Metrics: m, Logger: logger,
		MaxBodyBytes: cfg.SCIM.MaxBodyBytes, MaxInFlight: cfg.SCIM.MaxInFlight,
	}
	mux := newPublicMux(h)
	srv := &server.Server{
		Listen: cfg.Listen, AdminListen: cfg.AdminListen,
		Public: mux, Registry: reg, Logger: logger,
		Ready: func(ctx context.Context) error {
			_, err := st.Stats(ctx)
			return err
		},
		ShutdownTimeout: cfg.SCIM.ShutdownTimeout.Duration,
		Control:         control.Handler(control.Local{Store: st, Now: time.Now}),
		ControlListener: ctlLn,
		Started: func(public, admin net.Addr) {
			if dev {
				printDevBanner(out, public, admin, cfg.DataDir, devToken)
			}
		},
	}
	return srv.Run(ctx)
}

// devTokenFile holds dev mode's token so that a restart can print it again:
// the store keeps only its hash.
const devTokenFile = "dev-scim-token"

// ensureDevToken creates the "dev" token at first start and reuses it after,
// as long as the file and the stored hash still agree.
func ensureDevToken(ctx context.Context, st store.Store, dataDir string) (string, error) {
	path := filepath.Join(dataDir, devTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		tokens, err := st.Tokens(ctx)
		if err != nil {
			return "", err
		}
		for _, t := range tokens {
			if t.Name == "dev" && string(t.Hash) == string(scim.HashToken(secret)) {
				return secret, nil
			}
		}
	}
	admin := control.Local{Store: st, Now: time.Now}
	if err := admin.RevokeToken(ctx, "dev"); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	secret, err := admin.CreateToken(ctx, "dev")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return secret, nil
}

func printDevBanner(w io.Writer, public, admin net.Addr, dataDir, token string) {
	base := "http://" + public.String() + scim.Prefix
	fmt.Fprintf(w, `sagebridge dev mode
  SCIM base URL : %s
  SCIM token    : %s   (also in %s)
  metrics       : http://%s/metrics
Try:
  curl -s -H "Authorization: Bearer %s" -H "Content-Type: application/scim+json" \
    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","name":{"givenName":"Alice","familyName":"Lee"},"emails":[{"value":"alice@example.com","type":"work","primary":true}]}' \
    %s/Users
`, base, token, filepath.Join(dataDir, devTokenFile), admin.String(), token, base)
}
