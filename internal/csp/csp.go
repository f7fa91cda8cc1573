// Package csp builds Content-Security-Policy sources for the pages the
// bridge and dev mode serve.
package csp

import (
	"crypto/sha256"
	"encoding/base64"
)

// ScriptHash is the hash source that lets exactly this inline script run
// ('sha256-…', CSP Level 2): a page that needs one script allows it by
// hash, and no other script can run there.
func ScriptHash(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
