// Command bridge is the sagebridge daemon and its administration CLI.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "bridge",
		Short:         "sagebridge: SCIM and SAML from your IdP to multi-team SageMaker Studio",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newConfigCmd(), newTokenCmd(), newBackupCmd(),
		newPlanCmd(), newSyncCmd(), newStatusCmd(), newApproveCmd(), newKeysCmd())
	return root
}

// exitError carries a specific exit status (config check uses 1 for "the
// file has problems", leaving 2 for usage errors).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}
