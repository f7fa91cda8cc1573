package saml

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"

	crewjam "github.com/crewjam/saml"
)

// An SP-initiated sign-in remembers its AuthnRequest in a cookie named
// after a random handle; the handle is the RelayState sent to the IdP,
// which echoes it back to the ACS. The cookie is HMAC-sealed and bound to
// the browser that started the sign-in, which is what stops a response
// obtained by someone else from being replayed through this browser
// (login CSRF). Several tabs get several handles.
const (
	loginCookiePrefix = "sagebridge_login_"
	loginTTL          = 10 * time.Minute
	maxRelayState     = 2048
)

var handleRe = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

type loginState struct {
	RequestID  string `json:"id"`
	RelayState string `json:"rs,omitempty"`
}

// serveLogin starts an SP-initiated sign-in: Redirect binding AuthnRequest
// to the company IdP. RelayState (where AWS should land) is kept for the
// response to AWS.
func (b *Bridge) serveLogin(w http.ResponseWriter, r *http.Request) {
	if err := b.login(w, r); err != nil {
		ref := b.newRef()
		result, reason, status := classify(err)
		// No user is known yet, so there is no audit record; the count
		// shows people who could not even start signing in.
		b.metrics.signins.WithLabelValues(result, reason).Inc()
		b.log.WarnContext(r.Context(), "sign-in start failed", "ref", ref, "result", result, "reason", reason, "err", err)
		_ = writeError(w, status, reason, ref)
	}
}

func (b *Bridge) login(w http.ResponseWriter, r *http.Request) error {
	up := b.upstream.get()
	if up == nil || up.ssoURL == "" {
		return &refusal{reason: reasonNoMetadata, status: http.StatusServiceUnavailable,
			err: fmt.Errorf("no upstream metadata with a Redirect binding SingleSignOnService")}
	}
	req, err := up.sp.MakeAuthenticationRequest(up.ssoURL, crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		return fmt.Errorf("make AuthnRequest: %w", err)
	}
	handle, err := randomToken(b.rand, 16)
	if err != nil {
		return err
	}
	st := loginState{RequestID: req.ID, RelayState: cleanRelayState(r.URL.Query().Get("RelayState"))}
	tok, err := b.sealer.seal("login", st, b.now().Add(loginTTL))
	if err != nil {
		return err
	}
	http.SetCookie(w, b.cookie(loginCookiePrefix+handle, tok, acsPath, int(loginTTL/time.Second), true))
	u, err := req.Redirect(handle, up.sp)
	if err != nil {
		return fmt.Errorf("encode AuthnRequest: %w", err)
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
	return nil
}

// loginOf returns the sign-in this ACS post answers, if the browser
// started one here, and expires its cookie.
func (b *Bridge) loginOf(w http.ResponseWriter, r *http.Request) (loginState, bool) {
	handle := r.PostForm.Get("RelayState")
	if !handleRe.MatchString(handle) {
		return loginState{}, false
	}
	c, err := r.Cookie(loginCookiePrefix + handle)
	if err != nil {
		return loginState{}, false
	}
	http.SetCookie(w, b.cookie(c.Name, "", acsPath, -1, true))
	var st loginState
	if err := b.sealer.open("login", c.Value, b.now(), &st); err != nil {
		return loginState{}, false
	}
	return st, true
}

// cookie builds a cookie for the bridge's own pages. crossSite cookies
// must travel on the IdP's cross-site POST, which needs SameSite=None and
// so Secure; on a plain-http loopback URL (dev mode) the IdP is same-site
// anyway and Lax works.
func (b *Bridge) cookie(name, value, path string, maxAge int, crossSite bool) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteStrictMode}
	if crossSite {
		c.SameSite = http.SameSiteLaxMode
		if b.secure {
			c.SameSite = http.SameSiteNoneMode
		}
	}
	return c
}

// cleanRelayState keeps a RelayState that is plain printable text of a
// sane length; AWS uses it as the console URL to land on (ENV-1).
func cleanRelayState(rs string) string {
	if len(rs) > maxRelayState || strings.IndexFunc(rs, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return ""
	}
	return rs
}

func randomToken(rnd io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
