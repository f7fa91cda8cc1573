package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/control"
)

func newTokenCmd() *cobra.Command {
	var loc location
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage SCIM bearer tokens (shown once, stored as a hash; several may be valid for rotation)",
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a token and print it once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withAdmin(false, func(admin control.Admin) error {
				secret, err := admin.CreateToken(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "token %q created; it is not shown again\n", args[0])
				return nil
			})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List token names and creation times",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withAdmin(true, func(admin control.Admin) error {
				tokens, err := admin.Tokens(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCREATED")
				for _, t := range tokens {
					fmt.Fprintf(tw, "%s\t%s\n", t.Name, t.Created.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token; requests with it are refused at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withAdmin(true, func(admin control.Admin) error {
				if err := admin.RevokeToken(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "token %q revoked\n", args[0])
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{create, list, revoke} {
		loc.register(c)
		cmd.AddCommand(c)
	}
	return cmd
}
