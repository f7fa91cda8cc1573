package saml

import (
	"net/http"
	"sync"
	"testing"

	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// A response used once is refused after the daemon restarts: the replay
// cache is on disk before the first answer goes out.
func TestReplayRefusedAfterRestart(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	doc := e.validResponse("alice@example.com", t0).xml(t)
	readAWSAnswer(t, e.acs(doc, ""))

	path := e.st.Path()
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.b.store = st

	resp := e.acs(doc, "")
	if body := page(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the replay after a restart: %s\n%s", resp.Status, body)
	}
	if got := e.signins(resultRefused, reasonReplay); got != 1 {
		t.Errorf("signins_total{refused,replay} = %v, want 1", got)
	}
}

// The same response posted many times at once gets one answer for AWS;
// every other post is refused as a replay.
func TestConcurrentReplaysOneIssued(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	body := acsForm(e.validResponse("alice@example.com", t0).xml(t))
	h := e.b.Handler()
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i] = serveForm(h, body).Code })
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusForbidden:
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 || e.signins(resultIssued, reasonNone) != 1 || e.signins(resultRefused, reasonReplay) != n-1 {
		t.Fatalf("%d of %d posts answered (issued %v, refused as replays %v), want 1 and %d",
			ok, n, e.signins(resultIssued, reasonNone), e.signins(resultRefused, reasonReplay), n-1)
	}
}
