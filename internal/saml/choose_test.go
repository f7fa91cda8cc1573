package saml

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// choosePage signs a two-team user in and returns the picker's form and
// the cookies that came with it.
func choosePage(t *testing.T, e *env) (url.Values, []*http.Cookie) {
	t.Helper()
	resp := e.acs(e.validResponse("dana@example.com", t0).xml(t), "https://console.aws.amazon.com/")
	body := page(t, resp)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "SAMLResponse") {
		t.Fatalf("picker: %s\n%s", resp.Status, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("picker CSP %q", csp)
	}
	action, fields := formFields(t, body)
	if action != choosePath {
		t.Fatalf("picker posts to %q", action)
	}
	for _, team := range []string{"research", "platform"} {
		if !strings.Contains(body, `value="`+team+`"`) {
			t.Errorf("picker does not offer %s", team)
		}
	}
	return fields, resp.Cookies()
}

func TestChooseIssuesExactlyTheChosenTeam(t *testing.T) {
	e := newEnv(t, envOptions{multiTeam: "choose", idpInit: true})
	e.provision("dana@example.com", "ML Research", "ML Platform")
	fields, cookies := choosePage(t, e)
	if got := e.signins(resultChoose, reasonNone); got != 1 {
		t.Errorf("signins_total{choose} = %v", got)
	}
	fields.Set("team", "platform")
	a := readAWSAnswer(t, e.post(choosePath, fields, cookies...))
	var roles, teams []string
	for _, at := range a.asrt.FindElements("./AttributeStatement/Attribute") {
		switch at.SelectAttrValue("Name", "") {
		case attrRole:
			for _, v := range at.FindElements("./AttributeValue") {
				roles = append(roles, v.Text())
			}
		case attrPrincipalTag + "team":
			teams = append(teams, at.FindElement("./AttributeValue").Text())
		}
	}
	if len(roles) != 1 || !strings.Contains(roles[0], "role/sagebridge/sagebridge-platform,") {
		t.Errorf("Role values %v, want only platform's", roles)
	}
	if len(teams) != 1 || teams[0] != "platform" {
		t.Errorf("team tag %v, want platform", teams)
	}
	if a.relayState != "https://console.aws.amazon.com/" {
		t.Errorf("RelayState %q lost through the picker", a.relayState)
	}
	// The token is spent.
	again := e.post(choosePath, fields, cookies...)
	if page(t, again); again.StatusCode != http.StatusForbidden {
		t.Errorf("second use of the picker: %s", again.Status)
	}
	if got := e.signins(resultRefused, reasonReplay); got != 1 {
		t.Errorf("signins_total{refused,replay} = %v", got)
	}
}

func TestChooseRefusals(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env, f url.Values, cookies []*http.Cookie) (url.Values, []*http.Cookie)
		reason string
	}{
		{"no cookie (cross-site post)", func(_ *env, f url.Values, _ []*http.Cookie) (url.Values, []*http.Cookie) {
			return f, nil
		}, reasonBadChoice},
		{"forged token", func(_ *env, f url.Values, c []*http.Cookie) (url.Values, []*http.Cookie) {
			f.Set("token", strings.Replace(f.Get("token"), ".", "x.", 1))
			return f, c
		}, reasonBadChoice},
		{"a team the user is not in", func(_ *env, f url.Values, c []*http.Cookie) (url.Values, []*http.Cookie) {
			f.Set("team", "finance")
			return f, c
		}, reasonBadChoice},
		{"deactivated while choosing", func(e *env, f url.Values, c []*http.Cookie) (url.Values, []*http.Cookie) {
			e.deactivate("id-dana@example.com")
			return f, c
		}, reasonInactiveUser},
		{"expired token", func(e *env, f url.Values, c []*http.Cookie) (url.Values, []*http.Cookie) {
			e.clock.add(chooseTTL)
			return f, c
		}, reasonBadChoice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{multiTeam: "choose", idpInit: true})
			e.provision("dana@example.com", "ML Research", "ML Platform")
			fields, cookies := choosePage(t, e)
			fields.Set("team", "research")
			fields, cookies = tt.change(e, fields, cookies)
			resp := e.post(choosePath, fields, cookies...)
			if body := page(t, resp); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "SAMLResponse") {
				t.Fatalf("status %s", resp.Status)
			}
			if got := e.signins(resultRefused, tt.reason); got != 1 {
				t.Errorf("signins_total{refused,%s} = %v", tt.reason, got)
			}
		})
	}
}
