package saml

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/store"
)

// keyBits is the size of generated keys: AWS takes 1024 and up (MD-1);
// 2048 is the project's floor and signs three times faster than 3072.
const keyBits = 2048

// certLifetime of generated certificates. AWS does not check the validity
// period of the metadata certificate; rotation is by Rotate, not expiry.
const certLifetime = 10 * 365 * 24 * time.Hour

// ErrRotationPending: Rotate was called while the previous rotation's key
// is still waiting to sign.
var ErrRotationPending = errors.New("a rotated key is already waiting to take over")

// ErrKeysFromFiles: the signing keys come from PEM files, which are
// rotated by editing the configuration, not by Rotate.
var ErrKeysFromFiles = errors.New("signing keys are loaded from files; rotate by setting nextKeyFile/nextCertFile, then keyFile/certFile")

// signingKey is a usable key: its signer and certificate, and the
// certificate's base64 that every signature's KeyInfo carries.
type signingKey struct {
	id         string
	key        *rsa.PrivateKey
	cert       *x509.Certificate
	certBase64 string
	signFrom   time.Time
}

func newSigningKey(id string, key *rsa.PrivateKey, certDER []byte, signFrom time.Time) (*signingKey, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("key %s: certificate: %w", id, err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("key %s: the certificate is not for this private key", id)
	}
	if key.N.BitLen() < keyBits {
		return nil, fmt.Errorf("key %s: RSA key of %d bits; at least %d are required", id, key.N.BitLen(), keyBits)
	}
	// Signatures are RSA-SHA256 over exclusive c14n (SIG-3; xmlout.go).
	return &signingKey{id: id, key: key, cert: cert, certBase64: base64.StdEncoding.EncodeToString(certDER), signFrom: signFrom}, nil
}

// keyRing holds the IdP signing keys. The key that signs is the one with
// the latest SignFrom not after now; keys with a later SignFrom are
// published in the metadata ahead of time (MD-3), and the key they
// replaced stays published for grace after the switch, while assertions it
// signed may still be on their way to AWS.
type keyRing struct {
	st        store.Store
	now       func() time.Time
	rand      io.Reader
	delay     time.Duration
	grace     time.Duration
	fromFiles bool
	subject   string

	mu   sync.RWMutex
	keys []*signingKey // by signFrom, then id
}

func newKeyRing(ctx context.Context, st store.Store, c *config.SAML, now func() time.Time, rnd io.Reader) (*keyRing, error) {
	r := &keyRing{
		st: st, now: now, rand: rnd,
		delay:   c.IdP.Keys.RotationDelay.Duration,
		grace:   c.IdP.AssertionLifetime.Duration + c.SP.ClockSkew.Duration,
		subject: c.IdPEntityID(),
	}
	if c.IdP.Keys.KeyFile != "" {
		r.fromFiles = true
		return r, r.loadFiles(c.IdP.Keys)
	}
	if err := r.reload(ctx); err != nil {
		return nil, err
	}
	if len(r.keys) > 0 {
		return r, nil
	}
	// First start: make the first key. Another replica racing here loses
	// on the ID and takes the winner's key.
	k, err := r.generate("1", now())
	if err != nil {
		return nil, err
	}
	if err := st.CreateSigningKey(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("store the first signing key: %w", err)
	}
	return r, r.reload(ctx)
}

// loadFiles reads the current key (signing since forever) and the next one
// (published, never signing until the configuration promotes it).
func (r *keyRing) loadFiles(k config.SAMLKeys) error {
	cur, err := keyFromFiles("current", k.KeyFile, k.CertFile, time.Time{})
	if err != nil {
		return err
	}
	r.keys = []*signingKey{cur}
	if k.NextKeyFile != "" {
		next, err := keyFromFiles("next", k.NextKeyFile, k.NextCertFile, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return err
		}
		r.keys = append(r.keys, next)
	}
	return nil
}

func keyFromFiles(id, keyFile, certFile string, signFrom time.Time) (*signingKey, error) {
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("read signing certificate: %w", err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", certFile)
	}
	return newSigningKey(id, key, block.Bytes, signFrom)
}

func parseKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("a %T key; the bridge signs with RSA", k)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("PEM block %q; want PRIVATE KEY or RSA PRIVATE KEY", block.Type)
}

// generate makes a key pair and its self-signed certificate.
func (r *keyRing) generate(id string, signFrom time.Time) (store.SigningKey, error) {
	key, err := rsa.GenerateKey(r.rand, keyBits)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	serial, err := rand.Int(r.rand, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("certificate serial: %w", err)
	}
	now := r.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sagebridge IdP " + id, Organization: []string{r.subject}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(r.rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("self-sign certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encode signing key: %w", err)
	}
	return store.SigningKey{ID: id, PrivateKey: pk, Certificate: der, Created: now, SignFrom: signFrom}, nil
}

// reload reads the stored keys, so that a rotation made by another
// process (or replica) is seen.
func (r *keyRing) reload(ctx context.Context) error {
	if r.fromFiles {
		return nil
	}
	stored, err := r.st.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	keys := make([]*signingKey, 0, len(stored))
	for _, s := range stored {
		k, err := x509.ParsePKCS8PrivateKey(s.PrivateKey)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", s.ID, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return fmt.Errorf("signing key %s: a %T key, want RSA", s.ID, k)
		}
		sk, err := newSigningKey(s.ID, rk, s.Certificate, s.SignFrom)
		if err != nil {
			return err
		}
		keys = append(keys, sk)
	}
	slices.SortStableFunc(keys, func(a, b *signingKey) int { return a.signFrom.Compare(b.signFrom) })
	r.mu.Lock()
	r.keys = keys
	r.mu.Unlock()
	return nil
}

// current is the key that signs now: the last one whose signFrom has come.
func (r *keyRing) current() (*signingKey, error) {
	now := r.now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var cur *signingKey
	for _, k := range r.keys {
		if !k.signFrom.After(now) {
			cur = k
		}
	}
	if cur == nil {
		return nil, errors.New("no signing key is valid yet")
	}
	return cur, nil
}

// published lists the keys the metadata carries: the current one, those
// waiting to sign, and the one replaced less than grace ago.
func (r *keyRing) published() []*signingKey {
	now := r.now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*signingKey
	for i, k := range r.keys {
		switch {
		case k.signFrom.After(now): // waiting
		case i+1 == len(r.keys) || r.keys[i+1].signFrom.After(now): // current
		case !r.keys[i+1].signFrom.Add(r.grace).Before(now): // just replaced
		default:
			continue
		}
		out = append(out, k)
	}
	return out
}

// Rotation says what Rotate did.
type Rotation struct {
	KeyID    string
	SignFrom time.Time
}

// rotate adds a key that signs from now+delay, and drops the keys nothing
// will verify any more.
func (r *keyRing) rotate(ctx context.Context) (Rotation, error) {
	if r.fromFiles {
		return Rotation{}, ErrKeysFromFiles
	}
	if err := r.reload(ctx); err != nil {
		return Rotation{}, err
	}
	now := r.now()
	r.mu.RLock()
	keys := slices.Clone(r.keys)
	r.mu.RUnlock()
	next := 1
	for _, k := range keys {
		if k.signFrom.After(now) {
			return Rotation{}, fmt.Errorf("%w: key %s signs from %s", ErrRotationPending, k.id, k.signFrom.Format(time.RFC3339))
		}
		if n, err := strconv.Atoi(k.id); err == nil && n >= next {
			next = n + 1
		}
	}
	published := r.published()
	for _, k := range keys {
		if !slices.Contains(published, k) {
			if err := r.st.DeleteSigningKey(ctx, k.id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return Rotation{}, fmt.Errorf("drop retired key %s: %w", k.id, err)
			}
		}
	}
	sk, err := r.generate(strconv.Itoa(next), now.Add(r.delay))
	if err != nil {
		return Rotation{}, err
	}
	if err := r.st.CreateSigningKey(ctx, sk); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Rotation{}, fmt.Errorf("%w: another rotation added key %s meanwhile", ErrRotationPending, sk.ID)
		}
		return Rotation{}, fmt.Errorf("store rotated key: %w", err)
	}
	if err := r.reload(ctx); err != nil {
		return Rotation{}, err
	}
	return Rotation{KeyID: sk.ID, SignFrom: sk.SignFrom}, nil
}
