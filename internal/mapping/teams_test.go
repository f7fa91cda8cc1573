package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/store"
)

const teamsFromBody = `  userId: user.userName
  multiTeam: choose
  teamsFrom:
    displayNamePrefix: team-
    overrides:
      gpu: {priority: 5, sessionDuration: 4h}
`

func TestTeamsFrom(t *testing.T) {
	m := newMapping(t, awsSection("aws"), teamsFromBody)
	id, err := Resolve(m, newUser("jane", nil), groups("Everyone", "team-nlp", "Team-gpu", "team-cv"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, team := range id.Teams {
		names = append(names, team.Name)
	}
	// gpu by priority, then the others by name.
	if !reflect.DeepEqual(names, []string{"gpu", "cv", "nlp"}) {
		t.Errorf("teams = %v", names)
	}
	if id.Teams[0].SessionDuration != 4*time.Hour || id.Teams[1].SessionDuration != time.Hour ||
		id.Teams[2].FederationRoleARN != "arn:aws:iam::111122223333:role/sagebridge/sagebridge-nlp" {
		t.Errorf("teams = %+v", id.Teams)
	}
	if got := m.Teams(); !reflect.DeepEqual(got, []string{"gpu"}) {
		t.Errorf("Teams() = %v", got)
	}
	for _, tt := range []struct {
		g    store.Group
		want string
		ok   bool
	}{{group("team-nlp", ""), "nlp", true}, {group("Everyone", ""), "", false}} {
		name, ok, err := m.TeamOf(tt.g)
		if name != tt.want || ok != tt.ok || err != nil {
			t.Errorf("TeamOf(%s) = %q, %v, %v", tt.g.DisplayName, name, ok, err)
		}
	}
}

func TestTeamsFromInvalidNames(t *testing.T) {
	m := newMapping(t, awsSection("aws"), teamsFromBody)
	for _, tt := range []struct{ displayName, rule string }{
		{"team-ML Research", "must start with a letter or digit and hold only"},
		{"team-", "must not be empty"},
		{"team-" + strings.Repeat("x", 50), "execution role name"},
	} {
		_, err := Resolve(m, newUser("jane", nil), groups("team-ok", tt.displayName))
		var te *TeamError
		if !errors.Is(err, ErrInvalidTeam) || !errors.As(err, &te) || te.Group != tt.displayName || !strings.Contains(te.Rule, tt.rule) {
			t.Errorf("%q: err = %v, want a TeamError naming the group and %q", tt.displayName, err, tt.rule)
		}
		if _, _, err := m.TeamOf(group(tt.displayName, "")); !errors.Is(err, ErrInvalidTeam) {
			t.Errorf("TeamOf(%q) err = %v", tt.displayName, err)
		}
	}
}

func TestTeamResources(t *testing.T) {
	dir := t.TempDir()
	fed := filepath.Join(dir, "abac.json")
	exe := filepath.Join(dir, "data.json.tmpl")
	write(t, fed, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreatePresignedDomainUrl",
  "Resource": "arn:{{.Partition}}:sagemaker:{{.Region}}:{{.AccountID}}:user-profile/{{.DomainID}}/*"}]}`)
	write(t, exe, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:{{.Partition}}:s3:::data/{{.Team}}/*"}]}`)
	body := "  userId: user.userName\n" + threeTeams + `  defaults:
    maxSessionDuration: 6h
    federationRole:
      policyFiles: ['` + fed + `']
    executionRole:
      managedPolicyArns: ['arn:{partition}:iam::{account}:policy/{team}-extra']
      policyFiles: ['` + exe + `', '` + fed + `']
`
	m := newMapping(t, awsSection("aws-us-gov"), body)
	got, err := m.Team("platform")
	if err != nil {
		t.Fatal(err)
	}
	abac := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreatePresignedDomainUrl",
  "Resource": "arn:aws-us-gov:sagemaker:us-gov-west-1:111122223333:user-profile/d-abc123/*"}]}`
	want := Team{
		Name: "platform", Path: "/sagebridge/", MaxSessionDuration: 6 * time.Hour,
		FederationRole: Role{
			Name: "sagebridge-platform", ARN: "arn:aws-us-gov:iam::111122223333:role/sagebridge/sagebridge-platform",
			InlinePolicies: []Policy{{Name: "abac", Document: abac}},
		},
		ExecutionRole: Role{
			Name: "sagebridge-platform-execution", ARN: "arn:aws-us-gov:iam::111122223333:role/sagebridge/sagebridge-platform-execution",
			ManagedPolicyARNs: []string{"arn:aws-us-gov:iam::111122223333:policy/platform-extra"},
			InlinePolicies: []Policy{
				{Name: "abac", Document: abac},
				{Name: "data", Document: `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws-us-gov:s3:::data/platform/*"}]}`},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Team\n got %+v\nwant %+v", got, want)
	}
	// The files were read at load: changing them now changes nothing.
	write(t, exe, "garbage")
	if again, err := m.Team("platform"); err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("Team after the file changed: %v", err)
	}
	if _, err := m.Team("nobody"); !errors.Is(err, ErrInvalidTeam) {
		t.Errorf("Team(nobody) err = %v", err)
	}
	if got := m.Teams(); !reflect.DeepEqual(got, []string{"research", "platform", "interns"}) {
		t.Errorf("Teams() = %v", got)
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNewNeedsSections(t *testing.T) {
	if _, err := New(config.Default()); err == nil {
		t.Error("New accepted a configuration without mapping")
	}
}

// Every shipped configuration builds a Mapping, and dev.yaml does what the
// issue says: a group named team-X is team X.
func TestShippedConfigs(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("configs: %v %v", files, err)
	}
	for _, f := range files {
		c, err := config.Load(f)
		if err != nil {
			t.Fatalf("%s:\n%v", f, err)
		}
		if c.Mapping == nil {
			continue
		}
		m, err := New(c)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, team := range m.Teams() {
			if _, err := m.Team(team); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		if filepath.Base(f) != "dev.yaml" {
			continue
		}
		id, err := Resolve(m, newUser("dev.user@example.com", nil), groups("team-nlp"))
		if err != nil || id.UserID != "dev-user" || id.Teams[0].Name != "nlp" {
			t.Errorf("dev.yaml: %+v, %v", id, err)
		}
		if _, err := m.Team("nlp"); err != nil {
			t.Errorf("dev.yaml Team(nlp): %v", err)
		}
	}
}

// Resolve shares one Mapping between goroutines (run with -race).
func TestResolveConcurrently(t *testing.T) {
	m := newMapping(t, awsSection("aws"), "  userId: user.userName.split('@')[0]\n  multiTeam: choose\n"+
		"  sessionTags: {userId: userId, team: team, n: 'string(size(groups))'}\n"+threeTeams)
	u := newUser("jane.doe@example.com", nil)
	gs := groups("Interns", "ML Research")
	want, err := Resolve(m, u, gs)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := Resolve(m, u, gs)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("concurrent Resolve = %+v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
