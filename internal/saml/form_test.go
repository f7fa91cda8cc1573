package saml

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The ACS form is read as ParseForm reads it: base64 wrapped in lines or
// spaces, a Content-Type with parameters, a body of unknown length, and
// a query string that does not override the body.
func TestACSFormVariants(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	h := e.b.Handler()
	wrap := func(s, sep string) string {
		var b strings.Builder
		for len(s) > 76 {
			b.WriteString(s[:76] + sep)
			s = s[76:]
		}
		return b.String() + s
	}
	for _, tc := range []struct {
		name, sep, ctype, query string
		unknownLength           bool
	}{
		{name: "plain", ctype: "application/x-www-form-urlencoded"},
		{name: "CRLF lines", sep: "\r\n", ctype: "application/x-www-form-urlencoded"},
		{name: "spaces and tabs", sep: " \t", ctype: "application/x-www-form-urlencoded; charset=UTF-8"},
		{name: "unknown length", ctype: "application/x-www-form-urlencoded", unknownLength: true},
		{name: "query string", ctype: "application/x-www-form-urlencoded", query: "?SAMLResponse=eA%3D%3D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := e.validResponse("alice@example.com", t0).xml(t)
			body := url.Values{"SAMLResponse": {wrap(base64.StdEncoding.EncodeToString(doc), tc.sep)}}.Encode()
			req := httptest.NewRequest(http.MethodPost, acsPath+tc.query, strings.NewReader(body))
			req.Header.Set("Content-Type", tc.ctype)
			if tc.unknownLength {
				req.ContentLength = -1
				req.Body = io.NopCloser(strings.NewReader(body))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `name="SAMLResponse"`) {
				t.Fatalf("%d\n%s", rec.Code, rec.Body)
			}
		})
	}
	// Not a URL-encoded form: no SAMLResponse is read from it.
	req := httptest.NewRequest(http.MethodPost, acsPath, strings.NewReader("SAMLResponse=eA%3D%3D"))
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("text/plain body: %d", rec.Code)
	}
}
