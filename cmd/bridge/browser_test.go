package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sagebridge/sagebridge/internal/devidp"
	"github.com/sagebridge/sagebridge/internal/scim"
)

// A newcomer's first sign-in in a real browser: the dev sign-in page, a
// click on a user's button, the two pages that post a SAML response on
// with their one script under a strict Content-Security-Policy, and the
// decoded AWS sign-in at the end; then the admin listener's status page;
// then a user in two teams through the bridge's team picker, whose
// SameSite=Strict cookie the browser must send back.
// The plain-HTTP test of the same flow cannot tell whether a browser
// would run those scripts: this one can.
func TestBrowserDevSignInAndStatusPage(t *testing.T) {
	browser := browserPath(t)
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir)
	site := strings.TrimSuffix(d.base, scim.Prefix)

	alice := readyToSignIn(t, d, dataDir, "alice@example.com", "team-ml")
	role := awsRoles(t, dataDir, "ml")

	ctx := newBrowser(t, browser)
	console := watchConsole(t, ctx)
	checkConsoleSeesCSPRefusals(t, ctx, console)

	t.Run("sign-in", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(site+devidp.UsersPath)); err != nil {
			t.Fatal(err)
		}
		rows := tableRows(t, ctx, "table")
		if r, ok := rowStarting(rows, "alice@example.com"); !ok || !slices.Equal(r[:3], []string{"alice@example.com", "yes", "ml"}) {
			t.Errorf("the users page shows %q, want alice, active, in team ml", rows)
		}

		clicked := time.Now()
		visited := followSignIn(t, ctx, console, `//button[normalize-space()="Sign in as alice@example.com"]`, site+devidp.AWSSignInPath)
		if want := []string{site + devidp.SignInPath, site + "/saml/sp/acs", site + devidp.AWSSignInPath}; !slices.Equal(visited, want) {
			t.Errorf("the tab went through %q, want %q", visited, want)
		}
		h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		if err != nil {
			t.Fatal(err)
		}
		if h1 != "AWS would sign alice in" {
			t.Errorf("the AWS sign-in page says %q", h1)
		}
		checkShownSignIn(t, tableRows(t, ctx, "table"), role, site, "alice", "ml", clicked)
		checkConsole(t, "sign-in", console.drain(t, ctx))
	})

	t.Run("status", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(d.admin+"/status/")); err != nil {
			t.Fatal(err)
		}
		converged, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("converged")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(converged, "Converged:") {
			t.Errorf("the overview says %q, want Converged", converged)
		}
		teams := tableRows(t, ctx, "#teams table")
		if r, ok := rowStarting(teams, "ml"); !ok || len(r) < 3 || r[1] != "converged" || r[2] != role.RoleARN {
			t.Errorf("the overview's teams are %q, want ml converged with role %s", teams, role.RoleARN)
		}
		// The stylesheet is the one thing the page loads; its CSP must let it.
		rules, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			`Array.from(document.styleSheets, s => s.cssRules.length).reduce((a, b) => a + b, 0)`))
		if err != nil || rules == 0 {
			t.Errorf("the overview's stylesheet has %d rules (%v)", rules, err)
		}

		// Users is the link a person follows from the overview.
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil,
			chromedp.Click(`//nav/a[normalize-space()="Users"]`))); err != nil {
			t.Fatal(err)
		}
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil || loc != d.admin+"/status/users" {
			t.Fatalf("the Users link led to %q (%v)", loc, err)
		}
		users := tableRows(t, ctx, "#users")
		want := []string{"alice@example.com", alice.ID, "yes", "converged", "ml", alice.Record.Profile, ""}
		if r, _ := rowStarting(users, "alice@example.com"); !slices.Equal(r, want) || alice.Record.Profile == "" {
			t.Errorf("the users page shows %q, want the row %q", users, want)
		}
		checkConsole(t, "status", console.drain(t, ctx))
	})

	t.Run("team picker", func(t *testing.T) {
		readyToSignIn(t, d, dataDir, "bob@example.com", "team-data", "team-research")
		if err := chromedp.Do(ctx, chromedp.Navigate(site+devidp.UsersPath)); err != nil {
			t.Fatal(err)
		}
		acs := site + "/saml/sp/acs"
		if visited := followSignIn(t, ctx, console, `//button[normalize-space()="Sign in as bob@example.com"]`, acs); visited[len(visited)-1] != acs {
			t.Fatalf("the tab went through %q, want the picker at %s", visited, acs)
		}
		h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		if err != nil {
			t.Fatal(err)
		}
		teams, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("form button"), b => b.innerText.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		if h1 != "Choose the team to sign in to AWS as" || !slices.Equal(teams, []string{"data", "research"}) {
			t.Fatalf("the picker says %q and offers %q, want data and research", h1, teams)
		}

		clicked := time.Now()
		visited := followSignIn(t, ctx, console, `//button[normalize-space()="research"]`, site+devidp.AWSSignInPath)
		if want := []string{site + "/saml/choose", site + devidp.AWSSignInPath}; !slices.Equal(visited, want) {
			t.Errorf("after the pick the tab went through %q, want %q", visited, want)
		}
		if h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err != nil || h1 != "AWS would sign bob in" {
			t.Fatalf("the AWS sign-in page says %q (%v)", h1, err)
		}
		checkShownSignIn(t, tableRows(t, ctx, "table"), awsRoles(t, dataDir, "research"), site, "bob", "research", clicked)
		checkConsole(t, "team picker", console.drain(t, ctx))
	})
}

// checkConsoleSeesCSPRefusals shows that the console check works in this
// browser: a page whose policy refuses its inline script must be seen.
func checkConsoleSeesCSPRefusals(t *testing.T, ctx context.Context, console *pageConsole) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		fmt.Fprint(w, `<!DOCTYPE html><title>refused</title><script>document.title = "ran"</script>`)
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "refused" {
		t.Fatalf("the page's title is %q (%v): its policy did not refuse the script", title, err)
	}
	if !slices.ContainsFunc(console.drain(t, ctx), isCSPViolation) {
		t.Fatal("the console does not show the refused script: the CSP checks would see nothing")
	}
}

// followSignIn clicks the button of selector and follows the tab until it
// shows final. It returns each URL the tab showed after the click.
// Failing, it says where the tab stopped and what the console said: a
// page that refuses its own auto-submit script stops the flow there.
func followSignIn(t *testing.T, ctx context.Context, console *pageConsole, selector, final string) []string {
	t.Helper()
	var visited []string
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := chromedp.Run(wait, chromedp.WaitEvent(page.FrameNavigated, func(ev page.EventFrameNavigated) bool {
		if ev.Frame.ParentID != "" {
			return false
		}
		visited = append(visited, ev.Frame.URL)
		return ev.Frame.URL == final
	}, chromedp.Click(selector)))
	if err == nil {
		// The tab is at final once the frame navigated, but its page is
		// read only by load's end.
		_, err = chromedp.Run(wait, chromedp.Poll[bool](`location.href === `+strconv.Quote(final)+` && document.readyState === "complete"`))
	}
	if err != nil {
		checkConsole(t, "sign-in", console.drain(t, ctx))
		t.Fatalf("the sign-in did not reach %s: %v; the tab went through %q", final, err, visited)
	}
	return visited
}

// checkShownSignIn holds what the AWS sign-in page shows to what the sync
// made in AWS and what the mapping of dev.yaml gives userID in team.
func checkShownSignIn(t *testing.T, rows [][]string, role devidp.Role, site, userID, team string, clicked time.Time) {
	t.Helper()
	shown := map[string]string{}
	for _, r := range rows {
		if len(r) != 2 {
			t.Fatalf("the AWS sign-in page has a row %q, want a name and a value", r)
		}
		if _, dup := shown[r[0]]; dup {
			t.Errorf("the AWS sign-in page shows %s twice: %q", r[0], rows)
		}
		shown[r[0]] = r[1]
	}
	dest := site + devidp.AWSSignInPath
	for name, want := range map[string]string{
		"Role":                role.RoleARN,
		"SAML provider":       role.ProviderARN,
		"RoleSessionName":     userID,
		"SessionDuration":     "3600 s",
		"SourceIdentity":      userID,
		"PrincipalTag:userId": userID,
		"PrincipalTag:team":   team,
		"TransitiveTagKeys":   "userId",
		"Audience":            "urn:amazon:webservices",
		"Destination":         dest,
		"Recipient":           dest,
	} {
		if got, ok := shown[name]; !ok || got != want {
			t.Errorf("%s is %q, want %q", name, got, want)
		}
	}
	if alg, signed, _ := strings.Cut(shown["Signature"], " on "); !strings.HasSuffix(alg, "rsa-sha256") || !slices.Contains(strings.Split(signed, ", "), "Assertion") {
		t.Errorf("signature %q, want rsa-sha256 on the Assertion", shown["Signature"])
	}
	var tags []string
	for name := range shown {
		if strings.HasPrefix(name, "PrincipalTag:") {
			tags = append(tags, name)
		}
	}
	if slices.Sort(tags); !slices.Equal(tags, []string{"PrincipalTag:team", "PrincipalTag:userId"}) {
		t.Errorf("session tags %q, want team and userId", tags)
	}

	var at [3]time.Time
	for i, name := range []string{"IssueInstant", "NotBefore", "NotOnOrAfter"} {
		var err error
		if at[i], err = time.Parse("2006-01-02 15:04:05 MST", shown[name]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	issued, notBefore, notAfter := at[0], at[1], at[2]
	// The page shows whole seconds.
	if issued.Before(clicked.Truncate(time.Second)) || issued.After(time.Now()) {
		t.Errorf("issued %s, not between the click at %s and now", issued, clicked)
	}
	if life := notAfter.Sub(issued); life <= 0 || life > 5*time.Minute || notBefore.After(issued) {
		t.Errorf("valid from %s, issued %s, until %s: want at most 5 minutes from issue", notBefore, issued, notAfter)
	}
}
