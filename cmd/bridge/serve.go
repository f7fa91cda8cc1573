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

	"github.com/sagebridge/sagebridge/configs"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/devidp"
	"github.com/sagebridge/sagebridge/internal/metrics"
	"github.com/sagebridge/sagebridge/internal/requestid"
	"github.com/sagebridge/sagebridge/internal/scim"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/server"
	"github.com/sagebridge/sagebridge/internal/statuspage"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
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
		Long: `Run the daemon: SCIM, and the sync that keeps AWS equal to it.

--dev runs on loopback from configs/dev.yaml (carried in the binary) with a
local data directory, prints a generated SCIM token, and syncs to the built-in
AWS emulator, whose URL it prints and writes to DATA/dev-aws-endpoint.

--config runs from a configuration file and syncs to the account of its aws
section (region and rate limits from the file; credentials and the
AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SAGEMAKER endpoints from the standard
AWS configuration chain). A file without aws and mapping sections serves SCIM
only.`,
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
	var cfg *config.Config
	var err error
	if o.dev {
		// The binary carries dev mode's configuration and policies, so it
		// works from any directory.
		cfg, err = config.ParseFS(configs.FS, configs.DevPath)
	} else {
		cfg, err = config.Load(o.config)
	}
	if err != nil {
		return nil, err
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
	// Records logged with a request's context carry its request_id.
	if cfg.Log.Format == "text" {
		return slog.New(requestid.LogHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(requestid.LogHandler(slog.NewJSONHandler(w, opts)))
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
	// The public listener is bound first so that dev mode's sign-in URLs
	// name its real port.
	publicLn, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		ctlLn.Close()
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	defer publicLn.Close()
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
			ctlLn.Close()
			return err
		}
	}

	reg := prometheus.NewRegistry()
	m := metrics.New(reg, st)
	si, err := newSignIn(ctx, cfg, st, reg, logger, devBaseURL(dev, publicLn.Addr()))
	if err != nil {
		ctlLn.Close()
		return err
	}
	ds, err := startDaemonSync(ctx, cfg, dev, st, reg, logger, si)
	if err != nil {
		ctlLn.Close()
		return err
	}
	defer ds.close(logger)

	h := &scim.Handler{
		Store: st, Users: schema.NewUserType(exts...), Groups: schema.NewGroupType(),
		Metrics: m, Logger: logger,
		MaxBodyBytes: cfg.SCIM.MaxBodyBytes, MaxInFlight: cfg.SCIM.MaxInFlight,
	}
	// The listeners stop when the signal context ends or the syncer fails.
	srvCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	srv := &server.Server{
		PublicListener: publicLn, AdminListen: cfg.AdminListen,
		TLSCertFile: cfg.TLS.CertFile, TLSKeyFile: cfg.TLS.KeyFile,
		Public: newPublicMux(h, si), Registry: reg, Logger: logger,
		Checks: append([]server.Check{{Name: "store", Check: func(ctx context.Context) error {
			_, err := st.Stats(ctx)
			return err
		}}}, ds.checks(cfg)...),
		Admin: statuspage.Handler(statuspage.Options{
			Store: st, Records: bridgesync.NewStoreStatus(st), Summary: ds.control().Summary,
			Credentials: si.credentials, Logger: logger,
		}),
		ShutdownTimeout: cfg.SCIM.ShutdownTimeout.Duration,
		Control:         control.Handler(control.Local{Store: st, Now: time.Now}, ds.control(), si.keys(ds.metadataChanged)),
		ControlListener: ctlLn,
		Started: func(public, admin net.Addr) {
			if dev {
				printDevBanner(out, public, admin, cfg, devToken, ds.dev, si.dev != nil)
			}
		},
	}
	ds.run(stopServer, logger)
	si.run(logger)
	defer si.stop()
	runErr := srv.Run(srvCtx)
	// SCIM has stopped accepting and its in-flight writes are committed:
	// stop the syncer (its keys stay queued), then the deferred calls stop
	// the emulator and close the store.
	return errors.Join(runErr, ds.stop())
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

func printDevBanner(w io.Writer, public, admin net.Addr, cfg *config.Config, token string, aws *devAWS, signIn bool) {
	base := "http://" + public.String() + scim.Prefix
	fmt.Fprintf(w, `sagebridge dev mode
  SCIM base URL : %s
  SCIM token    : %s   (also in %s)
  status page   : http://%[4]s/status/
  metrics       : http://%[4]s/metrics   (health: /healthz, /readyz)
`, base, token, filepath.Join(cfg.DataDir, devTokenFile), admin.String())
	if aws != nil {
		fmt.Fprintf(w, `  AWS emulator  : %s   (also in %s; account %s, domain %s)
`, aws.url, aws.file, cfg.AWS.AccountID, cfg.AWS.SageMaker.DomainID)
	}
	fmt.Fprintf(w, `Try (a shell keeps her id in USER_ID):
  USER_ID=$(curl -s -H "Authorization: Bearer %[1]s" -H "Content-Type: application/scim+json" \
    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","name":{"givenName":"Alice","familyName":"Lee"},"emails":[{"value":"alice@example.com","type":"work","primary":true}]}' \
    %[2]s/Users | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo "$USER_ID"
`, token, base)
	if aws == nil && !signIn {
		return
	}
	fmt.Fprintf(w, `  then put her in team ml, a group named team-<name>:
  curl -s -H "Authorization: Bearer %[1]s" -H "Content-Type: application/scim+json" \
    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"team-ml","members":[{"value":"'"$USER_ID"'"}]}' \
    %[2]s/Groups
`, token, base)
	if aws != nil {
		fmt.Fprintf(w, `  watch her SageMaker profile appear:
  bridge status alice@example.com --data %s
`, cfg.DataDir)
	}
	if signIn {
		fmt.Fprintf(w, `  and sign in as her through the bridge, with dev mode's test IdP:
  %s
  (or start where a user would, at the bridge: %s)
`, "http://"+public.String()+devidp.UsersPath, "http://"+public.String()+"/saml/login")
	}
}
