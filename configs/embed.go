// Package configs carries the files of this directory that the binary
// needs at run time: dev mode's configuration and the policy documents it
// names, so that `bridge serve --dev` works from any directory and from a
// binary copied anywhere, without a checkout beside it.
package configs

import "embed"

// DevPath is dev mode's configuration file in FS.
const DevPath = "dev.yaml"

// FS holds dev.yaml and policies/, at the same relative paths as in this
// directory, so the policy paths dev.yaml names resolve inside it.
//
//go:embed dev.yaml policies
var FS embed.FS
