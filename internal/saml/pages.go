package saml

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/sagebridge/sagebridge/internal/csp"
	"github.com/sagebridge/sagebridge/internal/mapping"
)

// postScript is the only script the bridge serves. Its hash goes into the
// page's Content-Security-Policy, so no other script can run there, and
// the page works without it through the noscript button.
const postScript = `document.forms[0].submit();`

var postScriptHash = csp.ScriptHash(postScript)

var postTemplate = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in to AWS</title></head>
<body><form method="post" action="{{.URL}}">
<input type="hidden" name="SAMLResponse" value="{{.Response}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><p>Your browser does not run scripts. <button type="submit">Continue to AWS</button></p></noscript>
</form>
<script>` + postScript + `</script></body></html>
`))

var chooseTemplate = template.Must(template.New("choose").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Choose a team</title></head>
<body><h1>Choose the team to sign in to AWS as</h1>
<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}">
{{- range .Teams}}
<p><button type="submit" name="team" value="{{.}}">{{.}}</button></p>
{{- end}}
</form></body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title></head>
<body><h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p>Reference: <code>{{.Ref}}</code></p></body></html>
`))

// pageHeaders are sent with every page: nothing is cached, framed, or
// loaded from elsewhere.
func pageHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
}

// formAction lists where the post page's form may go. Browsers apply
// form-action to the redirects after the POST too, and AWS sign-in
// redirects to the console, so the console's origins are listed beside
// the sign-in endpoint.
func formAction(destination string) string {
	origins := []string{origin(destination)}
	switch {
	case strings.Contains(destination, "amazonaws-us-gov.com"):
		origins = append(origins, "https://*.amazonaws-us-gov.com")
	case strings.Contains(destination, "amazonaws.cn"):
		origins = append(origins, "https://*.amazonaws.cn")
	default:
		origins = append(origins, "https://*.aws.amazon.com")
	}
	return strings.Join(origins, " ")
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "'none'"
	}
	return u.Scheme + "://" + u.Host
}

// writePost answers with the auto-submitting form to AWS (ENV-1).
func writePost(w http.ResponseWriter, is *issued) error {
	pageHeaders(w, postCSP(is.destination))
	return postTemplate.Execute(w, postData{is.destination, string(is.encoded), is.relayState})
}

type postData struct{ URL, Response, RelayState string }

func postCSP(destination string) string {
	return "default-src 'none'; script-src " + postScriptHash + "; form-action " + formAction(destination) +
		"; base-uri 'none'; frame-ancestors 'none'"
}

// postPage is the post page for one destination, rendered once from
// postTemplate with placeholders and cut around them, so that a sign-in
// only escapes and copies its response and RelayState into it: the bytes
// are those postTemplate writes (pages_test.go compares), for a fraction
// of the template's cost on a 13 kB response.
type postPage struct {
	destination, csp string
	with             [3]string // before the response, between it and the RelayState, after
	without          [2]string // the page without a RelayState: before and after the response
}

// Placeholders: letters only, so that the template writes them as they
// are in an attribute value.
const (
	responseMark = "SAGEBRIDGExRESPONSExMARK"
	relayMark    = "SAGEBRIDGExRELAYSTATExMARK"
)

func newPostPage(destination string) (*postPage, error) {
	render := func(relay string) (string, error) {
		var b strings.Builder
		err := postTemplate.Execute(&b, postData{destination, responseMark, relay})
		return b.String(), err
	}
	with, err := render(relayMark)
	if err != nil {
		return nil, err
	}
	without, err := render("")
	if err != nil {
		return nil, err
	}
	p := &postPage{destination: destination, csp: postCSP(destination)}
	var ok1, ok2, ok3 bool
	p.with[0], with, ok1 = strings.Cut(with, responseMark)
	p.with[1], p.with[2], ok2 = strings.Cut(with, relayMark)
	p.without[0], p.without[1], ok3 = strings.Cut(without, responseMark)
	if !ok1 || !ok2 || !ok3 || strings.Contains(p.with[2], relayMark) || strings.Contains(p.without[1], responseMark) {
		return nil, errors.New("post page: the template does not hold each value once")
	}
	return p, nil
}

// write answers with the page for is, or through the template when is
// goes elsewhere than the page was made for.
func (p *postPage) write(w http.ResponseWriter, is *issued) error {
	if p == nil || is.destination != p.destination {
		return writePost(w, is)
	}
	pageHeaders(w, p.csp)
	buf := pageBuffers.Get().(*[]byte)
	defer pageBuffers.Put(buf)
	b := (*buf)[:0]
	if is.relayState == "" {
		b = append(b, p.without[0]...)
		b = appendAttrEscaped(b, is.encoded)
		b = append(b, p.without[1]...)
	} else {
		b = append(b, p.with[0]...)
		b = appendAttrEscaped(b, is.encoded)
		b = append(b, p.with[1]...)
		b = appendAttrEscaped(b, is.relayState)
		b = append(b, p.with[2]...)
	}
	*buf = b
	_, err := w.Write(b)
	return err
}

// pageBuffers recycles the buffers post pages are written in: a page is
// written whole, and the writer has copied it when Write returns.
var pageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 20<<10); return &b }}

// appendAttrEscaped appends s escaped as html/template escapes a value in
// a quoted attribute (its htmlReplacementTable): NUL, ", &, ', +, < and >.
// Other bytes, invalid UTF-8 included, pass as they are, as there.
func appendAttrEscaped[T string | []byte](b []byte, s T) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case 0:
			esc = "\uFFFD"
		case '"':
			esc = "&#34;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '+':
			esc = "&#43;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// writeChoose answers with the team picker. It has no script at all.
func writeChoose(w http.ResponseWriter, action, token string, teams []mapping.TeamIdentity) error {
	pageHeaders(w, "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	names := make([]string, len(teams))
	for i, t := range teams {
		names[i] = t.Name
	}
	return chooseTemplate.Execute(w, struct {
		Action, Token string
		Teams         []string
	}{action, token, names})
}

// writeError answers a refused or failed sign-in: what the user can do,
// and the reference the audit record carries; never the reason.
func writeError(w http.ResponseWriter, status int, reason, ref string) error {
	title, msg := "Sign-in failed", "Start again from your company's sign-in page. If this keeps happening, give your administrator the reference below."
	switch reason {
	case reasonUnknownUser, reasonAmbiguousUser, reasonInactiveUser, reasonUnmappedUser:
		title, msg = "No AWS access for this account", "Your account is not set up for AWS access through this sign-in, or it has been deactivated. Ask your administrator, and give them the reference below."
	case reasonNoMetadata:
		title, msg = "Sign-in is not available", "Sign-in is not available right now. Try again in a few minutes; if it persists, give your administrator the reference below."
	case reasonBadChoice:
		msg = "This page expired or was already used. Start again from your company's sign-in page."
	}
	pageHeaders(w, "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
	w.WriteHeader(status)
	return errorTemplate.Execute(w, struct{ Title, Message, Ref string }{title, msg, ref})
}
