package devidp

import (
	"html/template"
	"net/http"

	"github.com/sagebridge/sagebridge/internal/csp"
)

// postScript is the only script served under /dev/: its hash is in the
// post page's Content-Security-Policy, and a noscript button does its job
// without it.
const postScript = `document.forms[0].submit();`

var postScriptHash = csp.ScriptHash(postScript)

// Content-Security-Policy of each page: nothing loaded from anywhere, no
// framing, forms only to this origin; on the post page, its one script.
const cspNoScript = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

var cspPost = cspNoScript + "; script-src " + postScriptHash

const pageHead = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>`

var postTemplate = template.Must(template.New("post").Parse(pageHead + `
<p>The test IdP is signing you in to the bridge.</p>
<form method="post" action="{{.URL}}">
<input type="hidden" name="SAMLResponse" value="{{.Response}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><p>Your browser does not run scripts. <button type="submit">Continue to the bridge</button></p></noscript>
</form>
<script>` + postScript + `</script></body></html>
`))

var usersTemplate = template.Must(template.New("users").Parse(pageHead + `
<h1>sagebridge dev sign-in</h1>
<p>This is dev mode's test identity provider. Pick a user: the IdP posts a
signed SAML response for them to the bridge, and the bridge's answer for AWS
is shown decoded instead of being sent to AWS.</p>
{{- if .Request.InResponseTo}}
<p>The bridge asked for this sign-in (request <code>{{.Request.InResponseTo}}</code>): the response answers it.</p>
{{- end}}
{{- if .Users}}
<table>
<thead><tr><th>userName</th><th>active</th><th>team</th><th></th></tr></thead>
<tbody>
{{- range .Users}}
<tr><td>{{.UserName}}</td><td>{{if .Active}}yes{{else}}no{{end}}</td><td>{{.Team}}</td>
<td><form method="post" action="{{$.SignIn}}"><input type="hidden" name="userName" value="{{.UserName}}">{{template "request" $.Request}}<button type="submit">Sign in as {{.UserName}}</button></form></td></tr>
{{- end}}
</tbody></table>
{{- if .More}}
<p>Only the first {{len .Users}} users are listed.</p>
{{- end}}
{{- else}}
<p>No users yet: provision one over SCIM (the daemon printed a curl line).</p>
{{- end}}
<h2>Any other name</h2>
<p>The test IdP vouches for any name; the bridge decides whether it may sign in.</p>
<form method="post" action="{{.SignIn}}">{{template "request" .Request}}<input type="text" name="userName" aria-label="userName" required> <button type="submit">Sign in</button></form>
</body></html>
{{- define "request"}}{{with .InResponseTo}}<input type="hidden" name="InResponseTo" value="{{.}}">{{end}}{{with $.RelayState}}<input type="hidden" name="RelayState" value="{{.}}">{{end}}{{end}}
`))

var resultTemplate = template.Must(template.New("result").Parse(pageHead + `
{{- with .Decoded}}
<h1>AWS would sign {{.RoleSessionName}} in</h1>
<p>The bridge's response was verified against its IdP metadata and passed
the checks AWS makes. This is what AWS sign-in would act on.</p>
<table>
{{- range .Roles}}
<tr><th>Role</th><td>{{.RoleARN}}</td></tr>
<tr><th>SAML provider</th><td>{{.ProviderARN}}</td></tr>
{{- end}}
<tr><th>RoleSessionName</th><td>{{.RoleSessionName}}</td></tr>
<tr><th>SessionDuration</th><td>{{.SessionDuration}} s</td></tr>
<tr><th>SourceIdentity</th><td>{{.SourceIdentity}}</td></tr>
{{- range $k, $v := .PrincipalTags}}
<tr><th>PrincipalTag:{{$k}}</th><td>{{$v}}</td></tr>
{{- end}}
<tr><th>TransitiveTagKeys</th><td>{{range $i, $k := .TransitiveTagKeys}}{{if $i}}, {{end}}{{$k}}{{end}}</td></tr>
<tr><th>NameID</th><td>{{.NameID}}</td></tr>
<tr><th>Issuer</th><td>{{.Issuer}}</td></tr>
<tr><th>Audience</th><td>{{range $i, $a := .Audiences}}{{if $i}}, {{end}}{{$a}}{{end}}</td></tr>
<tr><th>Destination</th><td>{{.Destination}}</td></tr>
<tr><th>Recipient</th><td>{{.Recipient}}</td></tr>
<tr><th>IssueInstant</th><td>{{.IssueInstant.UTC.Format "2006-01-02 15:04:05 MST"}}</td></tr>
<tr><th>NotBefore</th><td>{{.NotBefore.UTC.Format "2006-01-02 15:04:05 MST"}}</td></tr>
<tr><th>NotOnOrAfter</th><td>{{.NotOnOrAfter.UTC.Format "2006-01-02 15:04:05 MST"}}</td></tr>
<tr><th>Signature</th><td>{{.SignatureAlgorithm}} on {{range $i, $e := .Signed}}{{if $i}}, {{end}}{{$e}}{{end}}</td></tr>
{{- if .RelayState}}
<tr><th>RelayState</th><td>{{.RelayState}}</td></tr>
{{- end}}
</table>
{{- else}}
<h1>AWS would refuse this response</h1>
<p>{{.Error}}</p>
{{- end}}
<p><a href="{{.Home}}">Sign in as someone else</a></p>
</body></html>
`))

// pageHeaders are sent with every page: nothing is cached or sniffed.
func pageHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
}

// writePost answers with the auto-submitting form to the bridge.
func writePost(w http.ResponseWriter, url, response, relayState string) error {
	pageHeaders(w, cspPost)
	return postTemplate.Execute(w, struct{ Title, URL, Response, RelayState string }{"Signing in", url, response, relayState})
}
