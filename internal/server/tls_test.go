package server

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/testcert"
)

// certFiles is a certificate and key pair on disk that a test rewrites.
type certFiles struct {
	dir, cert, key string
	// mtime is set on every write, one second apart, so a rewrite within
	// the file system's timestamp granularity still looks changed.
	mtime time.Time
}

func newCertFiles(t *testing.T) *certFiles {
	dir := t.TempDir()
	return &certFiles{dir: dir, cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key"),
		mtime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// write makes a self-signed certificate for cn and writes the pair.
func (f *certFiles) write(t *testing.T, cn string) {
	t.Helper()
	cert, key := testcert.New(t, cn)
	f.writeRaw(t, cert, key)
}

func (f *certFiles) writeRaw(t *testing.T, cert, key []byte) {
	t.Helper()
	f.mtime = f.mtime.Add(time.Second)
	for name, b := range map[string][]byte{f.cert: cert, f.key: key} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, f.mtime, f.mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func servedCN(t *testing.T, r *certReloader) string {
	t.Helper()
	c, err := r.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.Subject.CommonName
}

func TestCertReload(t *testing.T) {
	files := newCertFiles(t)
	files.write(t, "one.test")
	clock := newFakeClock()
	var logs bytes.Buffer
	r, err := newCertReloader(files.cert, files.key, clock.Now, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		change  func()
		advance time.Duration
		wantCN  string
		wantLog string
	}{
		{"unchanged", func() {}, time.Second, "one.test", ""},
		{"changed, looked at no sooner than a second", func() { files.write(t, "two.test") }, 999 * time.Millisecond, "one.test", ""},
		{"a second on, the new pair", func() {}, time.Millisecond, "two.test", "TLS certificate reloaded"},
		{"a broken pair keeps the old one", func() { files.writeRaw(t, []byte("not PEM"), []byte("nor this")) }, time.Second, "two.test", "does not load"},
		{"a key that does not match keeps the old one", func() {
			files.write(t, "three.test")
			key, _ := os.ReadFile(files.key)
			files.write(t, "four.test")
			cert, _ := os.ReadFile(files.cert)
			files.writeRaw(t, cert, key)
		}, time.Second, "two.test", "does not load"},
		{"a removed file keeps the old one", func() { os.Remove(files.key) }, time.Second, "two.test", "unreadable"},
		{"a good pair again", func() { files.write(t, "five.test") }, time.Second, "five.test", "TLS certificate reloaded"},
	}
	for _, st := range steps {
		logs.Reset()
		st.change()
		clock.Advance(st.advance)
		if got := servedCN(t, r); got != st.wantCN {
			t.Fatalf("%s: served %s, want %s", st.name, got, st.wantCN)
		}
		if st.wantLog == "" && logs.Len() > 0 || !bytes.Contains(logs.Bytes(), []byte(st.wantLog)) {
			t.Fatalf("%s: log %q, want %q", st.name, logs.String(), st.wantLog)
		}
	}
}

func TestCertReloaderNeedsAPairThatLoads(t *testing.T) {
	files := newCertFiles(t)
	if _, err := newCertReloader(files.cert, files.key, time.Now, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("missing files: no error")
	}
	files.writeRaw(t, []byte("x"), []byte("y"))
	if _, err := newCertReloader(files.cert, files.key, time.Now, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("unloadable files: no error")
	}
}

// dialCN makes a new TLS connection and returns the served certificate's
// common name.
func dialCN(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}
