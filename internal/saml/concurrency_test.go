package saml

import (
	"net/http"
	"sync"
	"testing"
)

// Sign-ins run concurrently (shared keys, signing contexts, metadata,
// store): under -race this finds unguarded state.
func TestConcurrentSignIns(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true, storedKeys: true})
	e.provision("alice@example.com", "ML Research")
	const n = 8
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = e.validResponse("alice@example.com", t0).xml(t)
	}
	h := e.b.Handler()
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i] = serveForm(h, acsForm(docs[i])).Code })
	}
	// A rotation and a metadata read race the sign-ins too.
	wg.Go(func() {
		if _, err := e.b.Rotate(t.Context()); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := e.b.Metadata(); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("sign-in %d: %d", i, c)
		}
	}
	if got := e.signins(resultIssued, reasonNone); got != n {
		t.Errorf("signins_total{issued} = %v, want %d", got, n)
	}
}
