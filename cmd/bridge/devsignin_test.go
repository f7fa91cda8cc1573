package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sagebridge/sagebridge/internal/devidp"
	"github.com/sagebridge/sagebridge/internal/scim"
)

// A newcomer's first sign-in: the built daemon in dev mode, users and a
// team provisioned over plain HTTP, the sync converged as `bridge status`
// reports, then the test IdP page, the bridge and the AWS stand-in
// followed form by form as a browser without scripts would.
func TestDevSignInThroughTheTestIdP(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir)
	site := strings.TrimSuffix(d.base, scim.Prefix)

	alice := createResource(t, d, "/Users", newUser("alice@example.com"))
	inactive := newUser("bob@example.com")
	inactive["active"] = false
	bob := createResource(t, d, "/Users", inactive)
	createResource(t, d, "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "team-ml",
		"members":     []any{map[string]any{"value": alice}, map[string]any{"value": bob}},
	})
	waitSignInReady(t, d, dataDir, "alice@example.com")

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	if d.signIn != site+devidp.UsersPath {
		t.Errorf("the banner's sign-in URL is %q, want %q", d.signIn, site+devidp.UsersPath)
	}
	page := get(t, c, d.signIn)
	for _, want := range []string{
		"<tr><td>alice@example.com</td><td>yes</td><td>ml</td>",
		"<tr><td>bob@example.com</td><td>no</td>",
		`<button type="submit">Sign in as alice@example.com</button>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the users page lacks %q:\n%s", want, page)
		}
	}

	checkDecoded(t, signInDecoded(t, c, site, page, "alice@example.com"), awsRoles(t, dataDir, "ml"), site)

	t.Run("SP-initiated", func(t *testing.T) {
		const landing = "https://console.aws.amazon.com/sagemaker/home"
		page := get(t, c, site+"/saml/login?RelayState="+url.QueryEscape(landing))
		if !strings.Contains(page, `<input type="hidden" name="InResponseTo" value="`) {
			t.Fatalf("/saml/login did not lead to the test IdP with the bridge's request:\n%s", page)
		}
		got := signInDecoded(t, c, site, page, "alice@example.com")
		checkDecoded(t, got, awsRoles(t, dataDir, "ml"), site)
		if got.RelayState != landing {
			t.Errorf("RelayState to AWS = %q, want the one given to /saml/login, %q", got.RelayState, landing)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct{ name, user string }{
			{"inactive", "bob@example.com"},
			{"unknown", "mallory@example.com"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				status, body, last := signInAs(t, c, site, page, tt.user)
				if status != http.StatusForbidden || last != site+"/saml/sp/acs" ||
					!regexp.MustCompile(`Reference: <code>[\w-]+</code>`).MatchString(body) || strings.Contains(body, "SAMLResponse") {
					t.Errorf("sign-in as %s ended at %s with %d, want the bridge's error page with a reference and no response:\n%s",
						tt.user, last, status, body)
				}
			})
		}
	})
}

// checkDecoded holds alice's decoded response to what the sync made in
// AWS and to what the mapping of dev.yaml gives her.
func checkDecoded(t *testing.T, got devidp.Decoded, want devidp.Role, site string) {
	t.Helper()
	if len(got.Roles) != 1 || got.Roles[0] != want {
		t.Errorf("roles %+v, want %+v", got.Roles, want)
	}
	if got.RoleSessionName != "alice" || got.SourceIdentity != "alice" || got.SessionDuration != 3600 {
		t.Errorf("session %q, source identity %q, duration %d; want alice, alice, 3600", got.RoleSessionName, got.SourceIdentity, got.SessionDuration)
	}
	if want := map[string]string{"userId": "alice", "team": "ml"}; !equalTags(got.PrincipalTags, want) {
		t.Errorf("session tags %v, want %v", got.PrincipalTags, want)
	}
	if !slices.Equal(got.TransitiveTagKeys, []string{"userId"}) {
		t.Errorf("transitive keys %v, want [userId]", got.TransitiveTagKeys)
	}
	dest := site + devidp.AWSSignInPath
	if got.Destination != dest || got.Recipient != dest || !slices.Equal(got.Audiences, []string{"urn:amazon:webservices"}) {
		t.Errorf("destination %q, recipient %q, audiences %v", got.Destination, got.Recipient, got.Audiences)
	}
	if life := got.NotOnOrAfter.Sub(got.IssueInstant); life <= 0 || life > 5*time.Minute || got.NotBefore.After(got.IssueInstant) {
		t.Errorf("valid from %s, issued %s, until %s: want at most 5 minutes from issue", got.NotBefore, got.IssueInstant, got.NotOnOrAfter)
	}
	if !strings.HasSuffix(got.SignatureAlgorithm, "rsa-sha256") || !slices.Contains(got.Signed, "Assertion") {
		t.Errorf("signature %s on %v", got.SignatureAlgorithm, got.Signed)
	}
}

// awsRoles asks the emulator, as a developer's script would, for the
// team's federation role and the SAML provider the sync created.
func awsRoles(t *testing.T, dataDir, team string) devidp.Role {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, devEndpointFile))
	if err != nil {
		t.Fatal(err)
	}
	c := iam.New(iam.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(strings.TrimSpace(string(b))),
		Credentials: credentials.NewStaticCredentialsProvider("dev", "dev", ""),
	})
	role, err := c.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String("sagebridge-" + team)})
	if err != nil {
		t.Fatalf("the federation role: %v", err)
	}
	providers, err := c.ListSAMLProviders(t.Context(), &iam.ListSAMLProvidersInput{})
	if err != nil || len(providers.SAMLProviderList) != 1 {
		t.Fatalf("the SAML provider: %v %+v", err, providers)
	}
	return devidp.Role{RoleARN: aws.ToString(role.Role.Arn), ProviderARN: aws.ToString(providers.SAMLProviderList[0].Arn)}
}

// signInDecoded signs user in from the test IdP's page and returns what
// the AWS stand-in decoded from the bridge's response.
func signInDecoded(t *testing.T, c *http.Client, site, page, user string) devidp.Decoded {
	t.Helper()
	status, body, last := signInAs(t, c, site, page, user)
	if status != http.StatusOK || last != site+devidp.AWSSignInPath {
		t.Fatalf("%s's sign-in ended at %s with %d:\n%s", user, last, status, body)
	}
	var got devidp.Decoded
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decoded response: %v:\n%s", err, body)
	}
	return got
}

// signInAs submits user through the sign-in form of the test IdP's page,
// then follows the forms the pages auto-submit, asking for JSON. It
// returns the last status, body and URL.
func signInAs(t *testing.T, c *http.Client, site, page, user string) (int, string, string) {
	t.Helper()
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form on the test IdP's page:\n%s", page)
	}
	target, fields := site+html.UnescapeString(m[1]), url.Values{"userName": {user}}
	// An SP-initiated sign-in's page carries the bridge's request in
	// every form.
	for _, h := range hiddenRe.FindAllStringSubmatch(page, -1) {
		if name := html.UnescapeString(h[1]); (name == "InResponseTo" || name == "RelayState") && !fields.Has(name) {
			fields.Set(name, html.UnescapeString(h[2]))
		}
	}
	for range 3 {
		status, body := postForm(t, c, target, fields)
		action, next, ok := autoSubmitForm(body)
		if !ok {
			return status, body, target
		}
		target, fields = action, next
	}
	t.Fatalf("signing in as %s did not end after 3 forms", user)
	return 0, "", ""
}

func postForm(t *testing.T, c *http.Client, target string, fields url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return send(t, c, req)
}

// send makes a request and reads the answer.
func send(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var (
	formRe   = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// autoSubmitForm reads the one form of a page that posts a SAMLResponse.
func autoSubmitForm(page string) (string, url.Values, bool) {
	m := formRe.FindAllStringSubmatch(page, -1)
	if len(m) != 1 {
		return "", nil, false
	}
	fields := url.Values{}
	for _, h := range hiddenRe.FindAllStringSubmatch(page, -1) {
		fields.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	if fields.Get("SAMLResponse") == "" {
		return "", nil, false
	}
	return html.UnescapeString(m[0][1]), fields, true
}

func createResource(t *testing.T, d *daemon, path string, body map[string]any) string {
	t.Helper()
	status, out, err := d.request(http.MethodPost, path, body)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("POST %s: %d %v %v", path, status, err, out)
	}
	return fmt.Sprint(out["id"])
}

func get(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body := send(t, c, req)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d:\n%s", target, status, body)
	}
	return body
}
