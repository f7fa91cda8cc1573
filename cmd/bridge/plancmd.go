package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/control"
)

func newPlanCmd() *cobra.Command {
	var loc location
	var asJSON, full bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what a sync would change in AWS now, changing nothing",
		Long: `Show what a sync would change in AWS now: every write the sync would make,
by queue key, and the keys it could not converge (conflicts, held deletions).
Nothing is changed. Like the sync, it trusts what it recorded as applied and
lists AWS to find what went missing; --full reads every resource instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withSync(cmd.Context(), cmd.ErrOrStderr(), func(h *syncHandle) error {
				p, err := h.Plan(cmd.Context(), full)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), p)
				}
				return printPlan(cmd.OutOrStdout(), p)
			})
		},
	}
	loc.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	cmd.Flags().BoolVar(&full, "full", false, "read every resource from AWS (one read per user: slow on large directories)")
	return cmd
}

func printPlan(w io.Writer, p control.Plan) error {
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if len(p.Changes) == 0 && len(p.Warnings) > 0 {
		fmt.Fprintf(w, "No changes found in %d keys, but the plan could not look everywhere (see the warnings).\n", p.Keys)
		return nil
	}
	if len(p.Changes) == 0 {
		fmt.Fprintf(w, "No changes: AWS matches the store and the mapping (%d keys examined).\n", p.Keys)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tACTION\tRESOURCE\tDETAIL")
	actions, failing := 0, 0
	for _, kp := range p.Changes {
		key := kp.Key
		for _, a := range kp.Actions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", key, a.Op, a.Resource, a.Detail)
			key = ""
			actions++
		}
		if kp.Error != "" {
			fmt.Fprintf(tw, "%s\terror\t\t%s\n", key, kp.Error)
			failing++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d changes to %d of %d keys; %d keys would not converge.\n", actions, len(p.Changes)-failing, p.Keys, failing)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
