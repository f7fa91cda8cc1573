package saml

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"slices"
	"testing"
	"time"
)

// Run both in one process so the ratio is measured on the same machine
// state:
//
//	go test -run '^$' -bench 'SignIn|RSA2048Sign' -benchtime 2s -cpu 1 ./internal/saml/
//
// BenchmarkSignIn is the whole ACS request, one at a time on one core:
// verify the upstream Response, record the assertion ID durably (a bbolt
// commit with its fsyncs), look the user up, map, build and sign the AWS
// Response, render the form. It reports signins/s and the p99 latency.
func BenchmarkSignIn(b *testing.B) {
	e := newEnv(b, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	h := e.b.Handler()
	// Each sign-in needs an assertion of its own (the replay cache
	// refuses a second use); signing them is not part of the measure.
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = acsForm(e.validResponse("alice@example.com", t0).xml(b))
	}
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t := time.Now()
		rec := serveForm(h, bodies[i])
		lat[i] = time.Since(t)
		if rec.Code != http.StatusOK {
			b.Fatalf("sign-in %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "signins/s")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkRSA2048Sign is the raw RSA-2048 PKCS #1 v1.5 SHA-256 signing
// rate, the ceiling a sign-in (one such signature) is compared with.
func BenchmarkRSA2048Sign(b *testing.B) {
	key := keys(b)[1].key
	digest := sha256.Sum256([]byte("the canonical SignedInfo of an assertion"))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signs/s")
}

// BenchmarkVerifyUpstream and BenchmarkAWSResponse split a sign-in into
// its two halves, to show where the time goes.
func BenchmarkVerifyUpstream(b *testing.B) {
	e := newEnv(b, envOptions{idpInit: true})
	doc := e.validResponse("alice@example.com", t0).xml(b)
	up := e.b.upstream.get()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := e.b.verifier.verify(doc, up, expectation{now: t0}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAWSResponse(b *testing.B) {
	e := newEnv(b, envOptions{idpInit: true})
	id := e.provision("alice@example.com", "ML Research")
	u, err := e.st.GetUser(b.Context(), id)
	if err != nil {
		b.Fatal(err)
	}
	ident, err := e.b.identityOf(b.Context(), u)
	if err != nil {
		b.Fatal(err)
	}
	g := &grant{nameID: id, identity: ident, team: ident.Teams[0]}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := e.b.awsResponse(g); err != nil {
			b.Fatal(err)
		}
	}
}
