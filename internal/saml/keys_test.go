package saml

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
)

// certsIn returns the certificates a metadata document publishes.
func certsIn(t *testing.T, b *Bridge) []string {
	t.Helper()
	md, err := b.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, part := range strings.Split(string(md), "<ds:X509Certificate>")[1:] {
		out = append(out, part[:strings.Index(part, "<")])
	}
	return out
}

func TestStoredKeysSurviveARestart(t *testing.T) {
	e := newEnv(t, envOptions{storedKeys: true})
	first := certsIn(t, e.b)
	if len(first) != 1 {
		t.Fatalf("%d keys published after first start, want 1", len(first))
	}
	m, err := mapping.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := New(t.Context(), Options{Store: e.st, Config: e.cfg, Mapping: m, Registry: prometheus.NewRegistry(), Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if got := certsIn(t, again); len(got) != 1 || got[0] != first[0] {
		t.Fatal("a restart generated a new key instead of loading the stored one")
	}
}

func TestRotate(t *testing.T) {
	e := newEnv(t, envOptions{storedKeys: true})
	delay := e.cfg.SAML.IdP.Keys.RotationDelay.Duration
	grace := e.b.keys.grace
	old, _ := e.b.keys.current()

	rot, err := e.b.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !rot.SignFrom.Equal(t0.Add(delay)) || rot.KeyID != "2" {
		t.Errorf("rotation = %+v, want key 2 signing from now+%s", rot, delay)
	}
	if _, err := e.b.Rotate(t.Context()); !errors.Is(err, ErrRotationPending) {
		t.Errorf("second Rotate while one waits: %v, want %v", err, ErrRotationPending)
	}
	steps := []struct {
		name      string
		at        time.Duration
		published int
		signer    string
	}{
		{"next published, old signs", 0, 2, old.id},
		{"just before the switch", delay - time.Second, 2, old.id},
		{"new key signs, old kept for grace", delay, 2, rot.KeyID},
		{"old key dropped after grace", delay + grace + time.Second, 1, rot.KeyID},
	}
	for _, s := range steps {
		e.clock.set(t0.Add(s.at))
		if got := len(certsIn(t, e.b)); got != s.published {
			t.Errorf("%s: %d keys published, want %d", s.name, got, s.published)
		}
		cur, err := e.b.keys.current()
		if err != nil || cur.id != s.signer {
			t.Errorf("%s: signing key %v, %v; want %s", s.name, cur, err, s.signer)
		}
	}
	// A later rotation drops the retired key from the store.
	if _, err := e.b.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	stored, _ := e.st.SigningKeys(t.Context())
	if len(stored) != 2 || stored[0].ID != "2" || stored[1].ID != "3" {
		t.Errorf("stored keys after the second rotation: %d", len(stored))
	}
	if audits := e.logs.audits(t); len(audits) != 2 || audits[0]["event"] != "saml_key_rotated" {
		t.Errorf("rotation audit records: %v", audits)
	}
}

func TestRotateRefusesFileKeys(t *testing.T) {
	e := newEnv(t, envOptions{})
	if _, err := e.b.Rotate(context.Background()); !errors.Is(err, ErrKeysFromFiles) {
		t.Fatalf("Rotate with file keys: %v", err)
	}
}

// A rotated key signs only after the delay, and AWS must already trust
// it: an assertion issued after the switch verifies with a published key.
func TestSignInAfterRotationUsesThePublishedKey(t *testing.T) {
	e := newEnv(t, envOptions{storedKeys: true, idpInit: true})
	e.provision("alice@example.com", "ML Research")
	if _, err := e.b.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	published := certsIn(t, e.b)
	e.clock.add(e.cfg.SAML.IdP.Keys.RotationDelay.Duration)
	a := readAWSAnswer(t, e.acs(e.validResponse("alice@example.com", e.clock.now()).xml(t), ""))
	cert := a.asrt.FindElement("./Signature/KeyInfo/X509Data/X509Certificate").Text()
	if cert != published[1] {
		t.Error("after the delay the assertion is not signed by the rotated key")
	}
}

// Keys from files: the next key is published beside the current one and
// never signs; Rotate is the configuration's job then.
func TestFileKeysPublishTheNextKey(t *testing.T) {
	ks := keys(t)
	dir := t.TempDir()
	kf, cf := writePEM(t, dir, "cur", ks[1])
	nkf, ncf := writePEM(t, dir, "next", ks[2])
	c := &config.SAML{}
	c.IdP.Keys = config.SAMLKeys{KeyFile: kf, CertFile: cf, NextKeyFile: nkf, NextCertFile: ncf}
	r, err := newKeyRing(t.Context(), nil, c, func() time.Time { return t0 }, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.published(); len(got) != 2 || !got[1].cert.Equal(ks[2].cert) {
		t.Fatalf("published %d keys, want current and next", len(got))
	}
	if cur, err := r.current(); err != nil || !cur.cert.Equal(ks[1].cert) {
		t.Fatalf("signing key %v, %v; want the current file's", cur, err)
	}
	// A key file that does not match its certificate is refused.
	c.IdP.Keys.CertFile = ncf
	c.IdP.Keys.NextKeyFile, c.IdP.Keys.NextCertFile = "", ""
	if _, err := newKeyRing(t.Context(), nil, c, time.Now, rand.Reader); err == nil || !strings.Contains(err.Error(), "not for this private key") {
		t.Fatalf("mismatched key and certificate: %v", err)
	}
}
