package saml

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzACS posts arbitrary documents to the ACS. Whatever comes in, the
// handler must not panic and must never issue a response to AWS: the
// environment has no users, so even a document that verified would be
// refused. The committed corpus (testdata/fuzz/FuzzACS) holds the attack
// shapes; a freshly signed valid response is added here, since its
// signature depends on a key made at run time.
func FuzzACS(f *testing.F) {
	e := newEnv(f, envOptions{idpInit: true})
	f.Add(e.validResponse("alice@example.com", t0).xml(f))
	h := e.b.Handler()
	f.Fuzz(func(t *testing.T, doc []byte) {
		rec := serveForm(h, acsForm(doc))
		if rec.Code == http.StatusOK || strings.Contains(rec.Body.String(), "SAMLResponse") {
			t.Fatalf("a response was issued for:\n%q", doc)
		}
	})
}
