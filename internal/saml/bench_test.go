package saml

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The sign-in rate is compared with the RSA-2048 signing rate measured in
// the same process, right after each sign-in run and in the same way
// (serially, or on every core at once), so that the ratio holds on
// whatever state the machine is in:
//
//	go test -run '^$' -bench 'SignIn|RSA2048Sign' -benchtime 2s -cpu 1,2 ./internal/saml/
//
// A sign-in is the whole ACS request: verify the upstream Response, record
// the assertion ID durably (an append to the store's replay log and its
// fdatasync), look the user up, map, build and sign the AWS Response,
// render the form. It holds one RSA-2048 signature, so the ratio's
// ceiling is 1.
//
// BenchmarkSignIn/concurrent is the capacity figure, "per core": sign-ins
// run from concurrentPerCore goroutines per core, as a daemon under load
// serves them, so the replay cache's fsync waits overlap with other
// sign-ins' CPU and syncs are grouped; it reports signins/s/core (the
// rate divided by the cores used), the p99 latency under that load, the
// RSA-2048 signs/s/core measured on as many goroutines per core, and their
// ratio. BenchmarkSignIn/serial is one sign-in at a time: signins/s, the
// p99 of a lone sign-in (the fsync wait included), the serial RSA rate and
// their ratio. Both report cpu-ms/signin, the process CPU time (all
// goroutines: store commits and GC included) per sign-in, where the
// platform gives it.
func BenchmarkSignIn(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchSignIn(b, 1) })
	b.Run("concurrent", func(b *testing.B) { benchSignIn(b, concurrentPerCore) })
}

// concurrentPerCore is how many sign-ins the concurrent benchmark keeps in
// flight per core: enough that one waiting for its commit leaves work for
// the core.
const concurrentPerCore = 4

func benchSignIn(b *testing.B, perCore int) {
	e := newEnv(b, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	h := e.b.Handler()
	bodies := signedBodies(b, e, b.N)
	cores := min(runtime.GOMAXPROCS(0), runtime.NumCPU())
	workers := 1
	if perCore > 1 {
		workers = perCore * cores
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := cpuTime()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t := time.Now()
				rec := serveForm(h, bodies[i])
				lat[i] = time.Since(t)
				if rec.Code != http.StatusOK {
					b.Errorf("sign-in %d: %d %s", i, rec.Code, rec.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, _ := cpuTime()
	b.StopTimer()
	slices.Sort(lat)
	rate := float64(b.N) / elapsed.Seconds()
	rsa := rsaSignRate(b, e, workers, max(elapsed, 200*time.Millisecond))
	div := 1.0
	if workers > 1 {
		div = float64(cores)
		b.ReportMetric(rate/div, "signins/s/core")
		b.ReportMetric(rsa/div, "rsa-signs/s/core")
	} else {
		b.ReportMetric(rate, "signins/s")
		b.ReportMetric(rsa, "rsa-signs/s")
	}
	b.ReportMetric(rate/rsa, "ratio")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
	if cpuOK {
		b.ReportMetric((cpu1-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/signin")
	}
}

// signedBodies makes n ACS form bodies, each with an assertion of its own
// (the replay cache refuses a second use). The test IdP's signing is not
// part of the measure; it runs on every core to keep the setup short.
func signedBodies(b *testing.B, e *env, n int) []string {
	bodies := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				bodies[i] = acsForm(e.validResponse("alice@example.com", t0).xml(b))
			}
		})
	}
	wg.Wait()
	return bodies
}

// rsaSignRate signs with the bridge's key from workers goroutines for d
// and returns the signatures per second, all goroutines together.
func rsaSignRate(b *testing.B, e *env, workers int, d time.Duration) float64 {
	key, err := e.b.keys.current()
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Go(func() {
			digest := sha256.Sum256([]byte("the canonical SignedInfo of an assertion"))
			for time.Now().Before(deadline) {
				if _, err := rsa.SignPKCS1v15(nil, key.key, crypto.SHA256, digest[:]); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// BenchmarkRSA2048Sign is the raw RSA-2048 PKCS #1 v1.5 SHA-256 signing
// rate on its own: serially (signs/s) and on every core at once
// (signs/s/core).
func BenchmarkRSA2048Sign(b *testing.B) {
	key := keys(b)[1].key
	digest := sha256.Sum256([]byte("the canonical SignedInfo of an assertion"))
	sign := func() {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		start := time.Now()
		for range b.N {
			sign()
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signs/s")
	})
	b.Run("concurrent", func(b *testing.B) {
		cores := min(runtime.GOMAXPROCS(0), runtime.NumCPU())
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sign()
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/float64(cores), "signs/s/core")
	})
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
