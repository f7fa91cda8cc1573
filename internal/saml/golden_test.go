package saml

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test -run %s -update\ngot:\n%s", path, t.Name(), got)
	}
}

// The wire format AWS reads, byte for byte: the IdP metadata and a signed
// Response (fixed key, clock and randomness).
func TestGoldenWireFormat(t *testing.T) {
	e := newEnv(t, envOptions{golden: true, idpInit: true})
	e.provision("alice@example.com", "ML Research")
	md, err := e.b.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "idp-metadata.golden.xml", md)
	a := readAWSAnswer(t, e.acs(e.validResponse("alice@example.com", t0).xml(t), "https://console.aws.amazon.com/"))
	golden(t, "aws-response.golden.xml", a.raw)
}

// The page that posts to AWS: one script, allowed by its hash and by
// nothing else; a noscript button; nothing framed or cached.
func TestPostPageHeaders(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	resp := e.acs(e.validResponse("alice@example.com", t0).xml(t), "")
	body := page(t, resp)
	want := "default-src 'none'; script-src " + postScriptHash +
		"; form-action https://signin.aws.amazon.com https://*.aws.amazon.com; base-uri 'none'; frame-ancestors 'none'"
	if got := resp.Header.Get("Content-Security-Policy"); got != want {
		t.Errorf("CSP\n got %s\nwant %s", got, want)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page with the assertion may be cached")
	}
	if !bytes.Contains([]byte(body), []byte("<script>"+postScript+"</script>")) || !bytes.Contains([]byte(body), []byte("<noscript>")) {
		t.Errorf("page:\n%s", body)
	}
}

// The sign-in metrics follow the Prometheus naming rules.
func TestMetricsLint(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	resp := e.acs([]byte("<x/>"), "")
	page(t, resp)
	problems, err := testutil.GatherAndLint(e.reg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	if got := e.signins(resultRefused, reasonMalformed); got != 1 {
		t.Errorf("signins_total{refused,malformed} = %v", got)
	}
}
