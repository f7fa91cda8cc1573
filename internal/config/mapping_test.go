package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// validAWS is an aws section that passes, four lines long, so that a
// mapping section after it starts on line 5 and its body on line 6.
const validAWS = `aws:
  accountId: "111122223333"
  region: eu-west-1
  sagemaker: {domainId: d-abc123}
`

// withMapping returns a file with validAWS and a mapping section whose
// body (indented by two) starts on line 6.
func withMapping(body string) string {
	return validAWS + "mapping:\n" + body
}

const oneTeam = "  teams:\n    - {name: a, groups: [{displayName: A}]}\n"

// writeFiles puts files in a fresh directory and returns the path a
// configuration file there would have.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "c.yaml")
}

func TestMappingDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte(withMapping("  userId: user.userName\n"+oneTeam)))
	if err != nil {
		t.Fatal(err)
	}
	a, m := c.AWS, c.Mapping
	if a.Partition != "aws" || a.SAMLProviderName != "sagebridge" || a.OwnershipTag != (Tag{"sagebridge:managed", "true"}) ||
		a.Deprovision.Grace.Duration != 720*time.Hour || !a.Deprovision.DeleteAfterGrace ||
		a.DeletionThreshold.Count != 10 || a.DeletionThreshold.Percent != 10 || a.DeletionThreshold.Window.Duration != time.Hour ||
		a.RateLimits.IAM != 10 || a.RateLimits.SageMaker != 2 || a.Quotas.ManagedPoliciesPerRole != 10 {
		t.Errorf("aws defaults = %+v", a)
	}
	if got := a.SAMLProviderARN(); got != "arn:aws:iam::111122223333:saml-provider/sagebridge" {
		t.Errorf("SAMLProviderARN = %q", got)
	}
	wantSan := Sanitize{Lowercase: true, Transliterate: true, ReplaceWith: "-", MaxLength: 63, TooLong: "hash"}
	if m.Sanitize != wantSan || m.MultiTeam != "first" || len(m.TransitiveTagKeys) != 0 {
		t.Errorf("mapping defaults = %+v", m)
	}
	if len(m.SessionTags) != 2 || m.SessionTags["userId"].Source != "userId" || m.SessionTags["team"].Source != "team" {
		t.Errorf("default session tags = %v", m.SessionTags)
	}
	s := m.TeamSettings("a")
	if s.Path != "/sagebridge/" || s.SessionDuration.Duration != time.Hour || s.MaxSessionDuration.Duration != time.Hour ||
		s.FederationRole.Name != "sagebridge-{team}" || s.ExecutionRole.Name != "sagebridge-{team}-execution" {
		t.Errorf("team settings = %+v", s)
	}
	comp, err := c.Compile()
	if err != nil || comp.UserID == nil || len(comp.SessionTags) != 2 {
		t.Fatalf("Compile = %+v, %v", comp, err)
	}
	// Load compiled once; Compile hands out that result.
	if again, _ := c.Compile(); again != comp {
		t.Error("Compile compiled again after Parse")
	}
}

func TestTeamSettingsMerge(t *testing.T) {
	src := withMapping(`  userId: user.userName
  teams:
    - name: a
      groups: [{displayName: A}]
      priority: 7
      path: /a/
      sessionDuration: 2h
      federationRole: {managedPolicyArns: []}
      executionRole: {name: "x-{team}"}
    - {name: b, groups: [{externalId: "123"}]}
  defaults:
    sessionDuration: 30m
    federationRole:
      managedPolicyArns: ["arn:{partition}:iam::aws:policy/P"]
    executionRole:
      managedPolicyArns: ["arn:{partition}:iam::aws:policy/Q"]
`)
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mapping
	a, b := m.TeamSettings("a"), m.TeamSettings("b")
	if m.TeamPriority("a") != 7 || m.TeamPriority("b") != 0 || m.TeamPriority("zzz") != 0 {
		t.Errorf("priorities %d %d", m.TeamPriority("a"), m.TeamPriority("b"))
	}
	if a.Path != "/a/" || a.SessionDuration.Duration != 2*time.Hour || a.MaxSessionDuration.Duration != 2*time.Hour {
		t.Errorf("a = %+v", a)
	}
	// [] replaces the default list; an absent list inherits it.
	if a.FederationRole.ManagedPolicyARNs == nil || len(a.FederationRole.ManagedPolicyARNs) != 0 {
		t.Errorf("a federation policies = %#v, want the written []", a.FederationRole.ManagedPolicyARNs)
	}
	if a.ExecutionRole.Name != "x-{team}" || !reflect.DeepEqual(a.ExecutionRole.ManagedPolicyARNs, []string{"arn:{partition}:iam::aws:policy/Q"}) {
		t.Errorf("a execution = %+v", a.ExecutionRole)
	}
	// 30m is below IAM's 1h floor for a role's MaxSessionDuration.
	if b.Path != "/sagebridge/" || b.SessionDuration.Duration != 30*time.Minute || b.MaxSessionDuration.Duration != time.Hour {
		t.Errorf("b = %+v", b)
	}
}

func TestTeamsFromOverrides(t *testing.T) {
	src := withMapping(`  userId: user.userName
  teamsFrom:
    displayNamePrefix: team-
    overrides:
      gpu: {priority: 3, sessionDuration: 4h}
`)
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tf := c.Mapping.TeamsFrom
	for dn, want := range map[string]string{"team-gpu": "gpu", "Team-NLP": "NLP", "team-": ""} {
		if got, ok := tf.TeamOfDisplayName(dn); !ok || got != want {
			t.Errorf("TeamOfDisplayName(%q) = %q, %v", dn, got, ok)
		}
	}
	for _, dn := range []string{"teams", "tea", "my-team-x", ""} {
		if _, ok := tf.TeamOfDisplayName(dn); ok {
			t.Errorf("TeamOfDisplayName(%q) is a team", dn)
		}
	}
	if c.Mapping.TeamPriority("gpu") != 3 || c.Mapping.TeamSettings("gpu").SessionDuration.Duration != 4*time.Hour ||
		c.Mapping.TeamSettings("other").SessionDuration.Duration != time.Hour {
		t.Error("teamsFrom overrides not applied")
	}
}

func TestInlineFieldsAreKnown(t *testing.T) {
	src := withMapping("  userId: user.userName\n  teams:\n    - name: a\n      groups: [{displayName: A}]\n      priorty: 1\n")
	got := problemsOf(t, src)
	want := `c.yaml:10: mapping.teams[0].priorty: unknown field; known fields here: executionRole, federationRole, groups, maxSessionDuration, name, path, priority, sessionDuration`
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
