package main

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sagebridge/sagebridge/internal/control"
)

// readyToSignIn provisions an active user in new groups over SCIM and waits
// until the user can sign in (waitSignInReady).
func readyToSignIn(t *testing.T, d *daemon, dataDir, userName string, groups ...string) control.UserStatus {
	t.Helper()
	id := createResource(t, d, "/Users", newUser(userName))
	for _, group := range groups {
		createResource(t, d, "/Groups", map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": group,
			"members":     []any{map[string]any{"value": id}},
		})
	}
	return waitSignInReady(t, d, dataDir, userName)
}

// waitSignInReady waits until the sync has converged on userName and the
// bridge trusts the test IdP: from then on the user can sign in. It
// returns the user's status as `bridge status` reports it.
func waitSignInReady(t *testing.T, d *daemon, dataDir, userName string) control.UserStatus {
	t.Helper()
	var u control.UserStatus
	pollUntil(t, "the sync to converge", func() bool {
		var sum control.Summary
		cliJSON(t, &sum, "status", "--json", "--data", dataDir)
		cliJSON(t, &u, "status", userName, "--json", "--data", dataDir)
		return sum.Converged && u.Record != nil && u.Record.State == "converged"
	})
	pollUntil(t, "the bridge to load the test IdP's metadata", func() bool {
		return strings.Contains(get(t, http.DefaultClient, d.admin+"/metrics"),
			`sagebridge_saml_upstream_metadata_refreshes_total{result="ok"}`)
	})
	return u
}

// browserNames are the names Chromium goes by on PATH: Debian's package,
// other distributions', and Google's build on a developer's machine.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// browserTimeout bounds everything a test does in the browser, so that a
// page that never finishes loading fails the test instead of hanging it.
const browserTimeout = 60 * time.Second

// browserPath finds Chromium on PATH. Without one it skips t, except on
// CI, which must run it.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no browser on PATH (looked for %s): install Debian's chromium, as .ci/run does", strings.Join(browserNames, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts the headless Chromium at path for t and returns a
// context for its tab.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		// The machine reaches no network but loopback: updates would
		// only fail, and slowly.
		chromedp.Flag("disable-component-update", true),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run its sandbox as root, as in a container.
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit, before its profile is removed
		cancel()
	})
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return tabCtx
}

// pageConsole reads a tab's console: calls of the console API, uncaught
// exceptions, and the browser's own log, where Chromium reports what a
// Content-Security-Policy refused.
type pageConsole struct {
	next  func() (chromedp.ConsoleMessage, error, bool)
	marks int
}

// watchConsole subscribes to the tab's console; messages queue up until
// drain reads them.
func watchConsole(t *testing.T, ctx context.Context) *pageConsole {
	next, stop := iter.Pull2(chromedp.Console(ctx))
	t.Cleanup(stop)
	return &pageConsole{next: next}
}

// drain returns what the tab logged since the last drain. It has the page
// log a mark and reads up to it: the browser sends its messages in order,
// so nothing logged before is still on its way.
func (c *pageConsole) drain(t *testing.T, ctx context.Context) []chromedp.ConsoleMessage {
	t.Helper()
	c.marks++
	mark := "sagebridge-test-mark-" + strconv.Itoa(c.marks)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("console.debug("+strconv.Quote(mark)+")")); err != nil {
		t.Fatalf("log a mark in the console: %v", err)
	}
	var out []chromedp.ConsoleMessage
	for {
		m, err, ok := c.next()
		if !ok || err != nil {
			t.Fatalf("read the console: %v (ended: %t)", err, !ok)
		}
		if m.Text == mark {
			return out
		}
		out = append(out, m)
	}
}

// checkConsole fails t for each refusal by a Content-Security-Policy and
// each uncaught exception among msgs: either would break the page in a
// real browser.
func checkConsole(t *testing.T, what string, msgs []chromedp.ConsoleMessage) {
	t.Helper()
	for _, m := range msgs {
		if isCSPViolation(m) || m.IsException() {
			t.Errorf("%s: the console has %s (%s:%d)", what, m, m.URL, m.Line+1)
		} else {
			t.Logf("%s: console: %s (%s)", what, m, m.URL)
		}
	}
}

func isCSPViolation(m chromedp.ConsoleMessage) bool {
	return strings.Contains(m.Text, "Content Security Policy")
}

// tableRows reads the text of each cell of each row of the tables that
// selector matches, as a person reads them.
func tableRows(t *testing.T, ctx context.Context, selector string) [][]string {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll(`+strconv.Quote(selector+" tr")+`), r => Array.from(r.cells, c => c.innerText.trim()))`))
	if err != nil {
		t.Fatalf("read the rows of %s: %v", selector, err)
	}
	return rows
}

// rowStarting is the first of rows whose first cell is first.
func rowStarting(rows [][]string, first string) ([]string, bool) {
	for _, r := range rows {
		if len(r) > 0 && r[0] == first {
			return r, true
		}
	}
	return nil, false
}
