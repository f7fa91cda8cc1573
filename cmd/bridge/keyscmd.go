package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/configs"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
)

func newKeysCmd() *cobra.Command {
	var loc location
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the SAML IdP signing keys (the keys AWS sign-in trusts)",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the published signing keys: the one signing, the next one, the one just replaced",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withKeys(cmd.Context(), func(k control.Keys) error {
				keys, err := k.SigningKeys(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), keys)
				}
				return printKeys(cmd.OutOrStdout(), keys)
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Publish a new signing key now; it signs after saml.idp.keys.rotationDelay",
		Long: `Publish a new signing key. It appears in /saml/idp/metadata at once, beside
the current key, and the sync pushes that metadata to the IAM SAML provider;
it starts signing after saml.idp.keys.rotationDelay, by when AWS trusts it.
The replaced key stays published while assertions it signed may be in
flight. Keys loaded from files are rotated in the configuration instead
(nextKeyFile/nextCertFile, then keyFile/certFile).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withKeys(cmd.Context(), func(k control.Keys) error {
				rot, err := k.RotateKey(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "key %s published; it signs from %s\n", rot.KeyID, rot.SignFrom.UTC().Format(time.RFC3339))
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{list, rotate} {
		loc.register(c)
		cmd.AddCommand(c)
	}
	return cmd
}

func printKeys(w io.Writer, keys []control.KeyInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSIGNS FROM\tCERTIFICATE EXPIRES\tSOURCE")
	for _, k := range keys {
		source := "store"
		if k.FromFile {
			source = "file"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.State, k.SignFrom.UTC().Format(time.RFC3339),
			k.NotAfter.UTC().Format(time.RFC3339), source)
	}
	return tw.Flush()
}

// withKeys runs fn with the signing keys of the daemon (through the control
// socket) or, when no daemon runs, of the database itself. Without
// --config the data directory is dev mode's, whose configuration the
// binary carries.
func (l *location) withKeys(ctx context.Context, fn func(control.Keys) error) error {
	cfg, dir, err := l.load()
	if err != nil {
		return err
	}
	if c, ok := control.Dial(filepath.Join(dir, control.SocketName)); ok {
		return fn(c)
	}
	if cfg == nil {
		if cfg, err = config.ParseFS(configs.FS, configs.DevPath); err != nil {
			return err
		}
	}
	st, err := openStore(dir, true)
	if err != nil {
		return err
	}
	si, err := newSignIn(ctx, cfg, st, prometheus.NewRegistry(), slog.New(slog.DiscardHandler), "")
	if err == nil {
		err = fn(si.keys(nil))
	}
	return errors.Join(err, st.Close())
}
