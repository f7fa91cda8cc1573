package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// keyName is the store's name (saml_meta) for the IdP's key and
// certificate, kept so that a restart keeps the metadata the bridge cached.
const keyName = "dev_idp_key"

// certLifetime is long: the key lives as long as the dev data directory.
const certLifetime = 10 * 365 * 24 * time.Hour

// signer is the IdP's signing key and its self-signed certificate.
type signer struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// loadSigner reads the key from the store, generating and storing it at
// first start. Two daemons starting at once agree: InitSAMLMeta keeps the
// first key stored.
func loadSigner(ctx context.Context, st store.Store, now time.Time) (*signer, error) {
	data, err := st.SAMLMeta(ctx, keyName)
	if errors.Is(err, store.ErrNotFound) {
		var fresh []byte
		if fresh, err = generateKey(now); err != nil {
			return nil, err
		}
		data, err = st.InitSAMLMeta(ctx, keyName, fresh)
	}
	if err != nil {
		return nil, fmt.Errorf("dev IdP key: %w", err)
	}
	return parseSigner(data)
}

// generateKey makes an RSA key and a self-signed certificate, as PEM.
func generateKey(now time.Time) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate dev IdP key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "sagebridge dev IdP"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("dev IdP certificate: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), nil
}

func parseSigner(data []byte) (*signer, error) {
	var s signer
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		var err error
		switch b.Type {
		case "RSA PRIVATE KEY":
			s.key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "CERTIFICATE":
			s.cert, err = x509.ParseCertificate(b.Bytes)
		}
		if err != nil {
			return nil, fmt.Errorf("stored dev IdP key: %w", err)
		}
	}
	if s.key == nil || s.cert == nil {
		return nil, errors.New("stored dev IdP key: want a key and a certificate")
	}
	return &s, nil
}
