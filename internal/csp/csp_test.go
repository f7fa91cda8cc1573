package csp

import "testing"

func TestScriptHash(t *testing.T) {
	// The value browsers compute for the script (sha256 of its text,
	// base64), as `printf %s 'alert(1)' | openssl sha256 -binary | base64`.
	if got, want := ScriptHash("alert(1)"), "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"; got != want {
		t.Errorf("ScriptHash = %s, want %s", got, want)
	}
}
