package saml

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// tokenKeyName is the store entry of the HMAC key that seals the login
// cookies and the picker tokens; kept in the store so every replica (and
// a restart) accepts what another issued.
const tokenKeyName = "token_key"

var errBadToken = errors.New("invalid or expired token")

// sealer signs small state that travels through the browser.
type sealer struct{ key []byte }

type sealed struct {
	Kind    string          `json:"k"`
	Expires int64           `json:"e"`
	Data    json.RawMessage `json:"d"`
}

// seal returns base64url(JSON) "." base64url(HMAC-SHA256). The kind is
// inside the MAC, so a token made for one purpose is useless for another.
func (s *sealer) seal(kind string, v any, expires time.Time) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", kind, err)
	}
	body, err := json.Marshal(sealed{Kind: kind, Expires: expires.Unix(), Data: data})
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", kind, err)
	}
	enc := base64.RawURLEncoding.EncodeToString(body)
	return enc + "." + base64.RawURLEncoding.EncodeToString(s.mac(enc)), nil
}

// open checks a token's MAC, kind and expiry and decodes its state into v.
func (s *sealer) open(kind, token string, now time.Time, v any) error {
	enc, macPart, ok := strings.Cut(token, ".")
	if !ok {
		return errBadToken
	}
	mac, err := base64.RawURLEncoding.DecodeString(macPart)
	if err != nil || !hmac.Equal(mac, s.mac(enc)) {
		return errBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return errBadToken
	}
	var st sealed
	if err := json.Unmarshal(body, &st); err != nil || st.Kind != kind || !now.Before(time.Unix(st.Expires, 0)) {
		return errBadToken
	}
	if err := json.Unmarshal(st.Data, v); err != nil {
		return errBadToken
	}
	return nil
}

func (s *sealer) mac(msg string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
