package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/control"
)

func newStatusCmd() *cobra.Command {
	var loc location
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [USER]",
		Short: "Show the sync's state: of one user (SCIM id or userName), or counts and convergence",
		Long: `With USER (a SCIM id or a userName): the identity the mapping gives the
user, what the sync recorded, the profile as SageMaker has it now, and the
user's next attempt in the queue. Without: the sync's records counted by
kind and state, the queue, held deletions, problems, and whether everything
has converged.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withSync(cmd.Context(), cmd.ErrOrStderr(), func(h *syncHandle) error {
				w := cmd.OutOrStdout()
				if len(args) == 1 {
					u, err := h.User(cmd.Context(), args[0])
					if err != nil {
						return err
					}
					if asJSON {
						return writeJSON(w, u)
					}
					return printUser(w, u)
				}
				sum, err := h.Summary(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(w, sum)
				}
				return printSummary(w, sum)
			})
		},
	}
	loc.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func printSummary(w io.Writer, s control.Summary) error {
	fmt.Fprintf(w, "converged: %s\n", yesNo(s.Converged))
	for _, r := range s.Reasons {
		fmt.Fprintf(w, "  not converged: %s\n", r)
	}
	fmt.Fprintf(w, "users in the store: %d\n", s.Users)
	q := s.Queue
	fmt.Fprintf(w, "queue: %d keys, %d due, %d retrying", q.Depth, q.Due, q.Retrying)
	if !q.Next.IsZero() {
		fmt.Fprintf(w, ", next at %s", stamp(q.Next))
	}
	fmt.Fprintln(w)
	if len(s.Held) > 0 {
		fmt.Fprintf(w, "held for `bridge approve`: %s\n", strings.Join(s.Held, " "))
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "problem: %s (%s): %s\n", p.Key, p.State, p.Error)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tSTATE\tCOUNT")
	for _, kind := range slices.Sorted(maps.Keys(s.States)) {
		for _, state := range slices.Sorted(maps.Keys(s.States[kind])) {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", kind, state, s.States[kind][state])
		}
	}
	return tw.Flush()
}

func printUser(w io.Writer, u control.UserStatus) error {
	active := "active"
	if !u.Active {
		active = "inactive"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "user\t%s (id %s, %s, key %s)\n", u.UserName, u.ID, active, u.Key)
	if d := u.Desired; d != nil {
		fmt.Fprintf(tw, "desired\tuserId %s, profile %s, team %s (teams: %s)\n", d.UserID, d.ProfileName, d.Team, strings.Join(d.Teams, ", "))
		fmt.Fprintf(tw, "\texecution role %s\n", d.ExecutionRoleARN)
		fmt.Fprintf(tw, "\ttags %s\n", tagList(d.Tags))
	} else {
		fmt.Fprintf(tw, "desired\tno profile: %s\n", u.DesiredError)
	}
	if r := u.Record; r != nil {
		fmt.Fprintf(tw, "sync\t%s", r.State)
		if !r.AppliedAt.IsZero() {
			fmt.Fprintf(tw, ", applied %s", stamp(r.AppliedAt))
		}
		if r.Profile != "" {
			fmt.Fprintf(tw, ", profile %s bound", r.Profile)
		}
		fmt.Fprintln(tw)
		if r.LastError != "" {
			fmt.Fprintf(tw, "\tlast error at %s: %s\n", stamp(r.ErrorAt), r.LastError)
		}
	} else {
		fmt.Fprintf(tw, "sync\tnot reconciled yet\n")
	}
	switch {
	case u.AWSError != "":
		fmt.Fprintf(tw, "aws\tcould not read the profile: %s\n", u.AWSError)
	case u.AWS == nil:
		fmt.Fprintf(tw, "aws\tno profile to look for\n")
	case !u.AWS.Exists:
		fmt.Fprintf(tw, "aws\tprofile %s does not exist\n", u.AWS.Name)
	default:
		p := u.AWS
		fmt.Fprintf(tw, "aws\tprofile %s %s, execution role %s\n", p.Name, p.Status, p.ExecutionRole)
		fmt.Fprintf(tw, "\ttags %s\n", tagList(p.Tags))
		if p.FailureReason != "" {
			fmt.Fprintf(tw, "\tfailure: %s\n", p.FailureReason)
		}
	}
	if q := u.Queue; q != nil {
		fmt.Fprintf(tw, "queue\tdue %s, attempt %d", stamp(q.Due), q.Attempts)
		if q.LastError != "" {
			fmt.Fprintf(tw, ", after: %s", q.LastError)
		}
		fmt.Fprintln(tw)
	} else {
		fmt.Fprintf(tw, "queue\tnot queued\n")
	}
	if u.Held {
		fmt.Fprintf(tw, "held\tits deletion waits for `bridge approve %s`\n", u.Key)
	}
	return tw.Flush()
}

func tagList(tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, " ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
