package devidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// AWSSignInPath is where dev mode's bridge posts its responses.
const AWSSignInPath = "/dev/aws-signin"

// maxResponseForm bounds the posted form: AWS takes 100,000 base64
// characters of SAMLResponse.
const maxResponseForm = 128 << 10

// AWSSignIn stands in for AWS sign-in: it verifies the bridge's Response
// and shows what AWS would act on. With Accept: application/json or
// ?format=json it answers JSON: the Decoded, or {"error": ...} with 400.
type AWSSignIn struct {
	// URL is this page's absolute URL: the Destination and Recipient the
	// response must carry.
	URL string
	// Metadata returns the bridge's current IdP metadata, what the IAM
	// SAML provider would hold.
	Metadata func() ([]byte, error)
	Logger   *slog.Logger
	// Now is the clock of the checks. Default time.Now.
	Now func() time.Time
}

func (s *AWSSignIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := cmpLogger(s.Logger)
	r.Body = http.MaxBytesReader(w, r.Body, maxResponseForm)
	d, err := s.verify(r)
	if d != nil {
		d.RelayState = r.PostFormValue("RelayState")
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
		log.WarnContext(r.Context(), "dev AWS sign-in refused", "err", err)
	} else {
		log.InfoContext(r.Context(), "dev AWS sign-in", "role", d.Roles[0].RoleARN, "session", d.RoleSessionName)
	}
	if wantsJSON(r) {
		writeJSON(w, status, d, err)
		return
	}
	pageHeaders(w, cspNoScript)
	w.WriteHeader(status)
	var msg string
	if err != nil {
		d, msg = nil, err.Error()
	}
	if err := resultTemplate.Execute(w, struct {
		Title, Error, Home string
		Decoded            *Decoded
	}{"AWS sign-in (dev)", msg, UsersPath, d}); err != nil {
		log.WarnContext(r.Context(), "write dev AWS sign-in page", "err", err)
	}
}

func (s *AWSSignIn) verify(r *http.Request) (*Decoded, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("read the form: %w", err)
	}
	field := r.PostForm.Get("SAMLResponse")
	if field == "" {
		return nil, errors.New("no SAMLResponse posted")
	}
	md, err := s.Metadata()
	if err != nil {
		return nil, fmt.Errorf("the bridge's IdP metadata: %w", err)
	}
	entityID, certs, err := signingCerts(md)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return decode(field, expect{issuer: entityID, certs: certs, url: s.URL, now: now()})
}

func wantsJSON(r *http.Request) bool {
	return r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, d *Decoded, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	var body any = d
	if err != nil {
		body = map[string]string{"error": err.Error()}
	}
	_ = json.NewEncoder(w).Encode(body)
}

func cmpLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
