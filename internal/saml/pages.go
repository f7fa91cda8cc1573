package saml

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/sagebridge/sagebridge/internal/mapping"
)

// postScript is the only script the bridge serves. Its hash goes into the
// page's Content-Security-Policy, so no other script can run there, and
// the page works without it through the noscript button.
const postScript = `document.forms[0].submit();`

var postScriptHash = func() string {
	sum := sha256.Sum256([]byte(postScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

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
	pageHeaders(w, "default-src 'none'; script-src "+postScriptHash+"; form-action "+formAction(is.destination)+
		"; base-uri 'none'; frame-ancestors 'none'")
	return postTemplate.Execute(w, struct{ URL, Response, RelayState string }{is.destination, is.encoded, is.relayState})
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
