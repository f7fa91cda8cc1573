package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// TestResolveUserID covers the userId rules and the sanitiser as Resolve
// applies them.
func TestResolveUserID(t *testing.T) {
	local := "  userId: user.userName.split('@')[0]\n"
	tests := []struct {
		name     string
		userID   string // the userId line of the mapping
		sanitize string // an optional sanitize section
		user     store.User
		want     string
		wantErr  string // a substring of the InvalidUserIDError
	}{
		{"local part", local, "", newUser("Jane.Doe@example.com", nil), "jane-doe", ""},
		{"externalId", "  userId: user.externalId\n", "", newUser("j@x", map[string]any{"externalId": "00uAbC123"}), "00uabc123", ""},
		{"externalId missing", "  userId: user.externalId\n", "", newUser("j@x", nil), "", "mapping.userId: no such key: externalId"},
		{"enterprise attribute", "  userId: user['" + enterpriseURN + "'].employeeNumber\n", "",
			newUser("j@x", map[string]any{enterpriseURN: map[string]any{"employeeNumber": "E_1234"}}), "e-1234", ""},
		{"enterprise attribute optional", "  userId: user[?'" + enterpriseURN + "'].?employeeNumber.orValue(user.userName)\n", "",
			newUser("fallback@x", nil), "fallback-x", ""},
		{"custom extension integer", "  userId: \"'b' + string(user['" + acmeURN + "'].badgeNumber)\"\n", "",
			newUser("j@x", map[string]any{acmeURN: map[string]any{"badgeNumber": 1234}}), "b1234", ""},
		{"custom extension decimal", "  userId: string(user['" + acmeURN + "'].score)\n", "",
			newUser("j@x", map[string]any{acmeURN: map[string]any{"score": 2.5}}), "2-5", ""},
		{"groups variable", "  userId: user.userName + string(size(groups))\n", "", newUser("j", nil), "j1", ""},
		{"not a string at run time", "  userId: user.active\n", "", newUser("j@x", nil), "", "the expression gave bool, not a string"},
		{"dots and underscores", local, "", newUser("a.b_c..d@x", nil), "a-b-c-d", ""},
		{"leading and trailing junk", local, "", newUser("__.a.b-__@x", nil), "a-b", ""},
		{"unicode transliterated", local, "", newUser("José.Müßig-Øre@x", nil), "jose-mussig-ore", ""},
		{"unicode without transliteration", local, "  sanitize: {transliterate: false}\n", newUser("José@x", nil), "jos", ""},
		{"other scripts are separators", local, "", newUser("Иван.ab@x", nil), "ab", ""},
		{"nothing left", local, "", newUser("Иван@x", nil), "", "no letter or digit is left"},
		{"empty result", local, "", newUser("@x", nil), "", "no letter or digit is left"},
		{"too short", local, "", newUser("j@x", nil), "", `"j" is shorter than 2 characters`},
		{"keep case", local, "  sanitize: {lowercase: false}\n", newUser("Jane.Doe@x", nil), "Jane-Doe", ""},
		{"drop separators", local, "  sanitize: {replaceWith: ''}\n", newUser("jane.doe@x", nil), "janedoe", ""},
		{"too long hashed", local, "", newUser(strings.Repeat("ab.", 30)+"@x", nil), strings.Repeat("ab-", 17) + "ab-83ba73ae", ""},
		{"too long truncated", local, "  sanitize: {tooLong: truncate, maxLength: 10}\n", newUser("abcd.efgh.ijkl@x", nil), "abcd-efgh", ""},
		{"too long refused", local, "  sanitize: {tooLong: refuse, maxLength: 10}\n", newUser("abcd.efgh.ijkl@x", nil), "", "longer than mapping.sanitize.maxLength (10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMapping(t, awsSection("aws"), tt.userID+tt.sanitize+"  multiTeam: choose\n"+threeTeams)
			id, err := Resolve(m, tt.user, groups("Interns"))
			if tt.wantErr != "" {
				var ie *InvalidUserIDError
				if !errors.Is(err, ErrInvalidUserID) || !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want an InvalidUserIDError containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.user.ID) {
					t.Errorf("err = %v, want the user named", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.UserID != tt.want || id.ProfileName != tt.want || id.RoleSessionName != tt.want || id.SourceIdentity != tt.want {
				t.Errorf("identity = %+v, want userId %q everywhere", id, tt.want)
			}
			if !profileNameRe.MatchString(id.UserID) {
				t.Errorf("%q is not a valid profile name", id.UserID)
			}
		})
	}
}

// TestResolveTeams covers team membership and the multi-team policies.
func TestResolveTeams(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		groups  []store.Group
		want    []string
		wantErr error
	}{
		{"by displayName", "first", groups("ML Platform"), []string{"platform"}, nil},
		{"displayName ignores case", "first", groups("ml platform"), []string{"platform"}, nil},
		{"by externalId", "first", []store.Group{group("Renamed in the IdP", "ext-r")}, []string{"research"}, nil},
		{"unrelated groups", "first", groups("Everyone", "ML Platform"), []string{"platform"}, nil},
		{"two groups one team", "deny", []store.Group{group("ML Research", ""), group("Other", "ext-r")}, []string{"research"}, nil},
		{"first takes highest priority", "first", groups("Interns", "ML Platform", "ML Research"), []string{"research"}, nil},
		{"choose lists all by priority", "choose", groups("Interns", "ML Research", "ML Platform"), []string{"research", "platform", "interns"}, nil},
		{"deny refuses several", "deny", groups("Interns", "ML Platform"), nil, ErrMultipleTeams},
		{"deny accepts one", "deny", groups("Interns"), []string{"interns"}, nil},
		{"no team", "first", groups("Everyone"), nil, ErrNoTeam},
		{"no groups", "choose", nil, nil, ErrNoTeam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMapping(t, awsSection("aws"), "  userId: user.userName\n  multiTeam: "+tt.policy+"\n"+threeTeams)
			id, err := Resolve(m, newUser("jane", nil), tt.groups)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, team := range id.Teams {
				got = append(got, team.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("teams = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMultipleTeamsErrorNamesTeams(t *testing.T) {
	m := newMapping(t, awsSection("aws"), "  userId: user.userName\n  multiTeam: deny\n"+threeTeams)
	_, err := Resolve(m, newUser("jane", nil), groups("Interns", "ML Research"))
	var me *MultipleTeamsError
	if !errors.As(err, &me) || !reflect.DeepEqual(me.Teams, []string{"research", "interns"}) {
		t.Fatalf("err = %v", err)
	}
}

func TestTiesFollowTheFile(t *testing.T) {
	body := "  userId: user.userName\n  multiTeam: choose\n  teams:\n" +
		"    - {name: zeta, groups: [{displayName: Z}]}\n    - {name: alpha, groups: [{displayName: A}]}\n"
	m := newMapping(t, awsSection("aws"), body)
	id, err := Resolve(m, newUser("jane", nil), groups("A", "Z"))
	if err != nil {
		t.Fatal(err)
	}
	if id.Teams[0].Name != "zeta" || id.Teams[1].Name != "alpha" {
		t.Errorf("teams = %v, %v; equal priorities keep the file's order", id.Teams[0].Name, id.Teams[1].Name)
	}
}

func TestInactiveUser(t *testing.T) {
	m := newMapping(t, awsSection("aws"), "  userId: user.userName\n"+threeTeams)
	u := newUser("jane", nil)
	u.Active = false
	id, err := Resolve(m, u, nil) // no team either: inactive is reported first
	if !errors.Is(err, ErrInactive) {
		t.Fatalf("err = %v, want ErrInactive", err)
	}
	// The sync needs the userId to find and suspend the profile.
	want := Identity{UserID: "jane", ProfileName: "jane", RoleSessionName: "jane", SourceIdentity: "jane"}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("identity = %+v, want %+v", id, want)
	}
	// A user whose userId cannot be derived reports that instead.
	u.UserName = "j"
	if _, err := Resolve(m, u, nil); !errors.Is(err, ErrInvalidUserID) {
		t.Errorf("err = %v, want ErrInvalidUserID", err)
	}
}

// TestResolveIdentity checks a whole Identity: ARNs, durations, the Role
// attribute and the session tags of each team.
func TestResolveIdentity(t *testing.T) {
	body := `  userId: user.userName.split('@')[0]
  multiTeam: choose
  sessionTags:
    userId: userId
    team: team
    email: user.emails[0].value
    dept: user[?'` + enterpriseURN + `'].?department.orValue('none')
  transitiveTagKeys: [userId, team]
  teams:
    - name: research
      groups: [{displayName: ML Research}]
      priority: 20
      path: /ml/{team}/
      sessionDuration: 8h
      maxSessionDuration: 12h
      federationRole: {name: "rs-{team}"}
    - name: platform
      groups: [{displayName: ML Platform}]
  defaults:
    sessionDuration: 2h
`
	m := newMapping(t, awsSection("aws"), body)
	u := newUser("jane.doe@example.com", map[string]any{
		"emails":      []any{map[string]any{"value": "jane.doe@example.com", "primary": true}},
		enterpriseURN: map[string]any{"department": "R&D Lab"},
	})
	_, err := Resolve(m, u, groups("ML Platform", "ML Research"))
	var te *SessionTagError
	if !errors.Is(err, ErrInvalidSessionTag) || !errors.As(err, &te) || te.Key != "dept" || te.Value != "R&D Lab" {
		t.Fatalf("err = %v, want the dept tag refused for its &", err)
	}
	u = newUser("jane.doe@example.com", map[string]any{
		"emails": []any{map[string]any{"value": "jane.doe@example.com"}},
	})
	id, err := Resolve(m, u, groups("ML Platform", "ML Research"))
	if err != nil {
		t.Fatal(err)
	}
	provider := "arn:aws:iam::111122223333:saml-provider/sagebridge"
	tags := func(team string) []Tag {
		return []Tag{
			{Key: "dept", Value: "none"},
			{Key: "email", Value: "jane.doe@example.com"},
			{Key: "team", Value: team, Transitive: true},
			{Key: "userId", Value: "jane-doe", Transitive: true},
		}
	}
	want := Identity{
		UserID: "jane-doe", ProfileName: "jane-doe", RoleSessionName: "jane-doe", SourceIdentity: "jane-doe",
		Teams: []TeamIdentity{{
			Name: "research", Priority: 20,
			FederationRoleName: "rs-research", FederationRoleARN: "arn:aws:iam::111122223333:role/ml/research/rs-research",
			ExecutionRoleName: "sagebridge-research-execution", ExecutionRoleARN: "arn:aws:iam::111122223333:role/ml/research/sagebridge-research-execution",
			SessionDuration: 8 * time.Hour,
			SAMLRole:        "arn:aws:iam::111122223333:role/ml/research/rs-research," + provider,
			SessionTags:     tags("research"),
		}, {
			Name:               "platform",
			FederationRoleName: "sagebridge-platform", FederationRoleARN: "arn:aws:iam::111122223333:role/sagebridge/sagebridge-platform",
			ExecutionRoleName: "sagebridge-platform-execution", ExecutionRoleARN: "arn:aws:iam::111122223333:role/sagebridge/sagebridge-platform-execution",
			SessionDuration: 2 * time.Hour,
			SAMLRole:        "arn:aws:iam::111122223333:role/sagebridge/sagebridge-platform," + provider,
			SessionTags:     tags("platform"),
		}},
		SessionTags: tags("research"),
	}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("identity\n got %+v\nwant %+v", id, want)
	}
	if got := TransitiveKeys(id.SessionTags); !reflect.DeepEqual(got, []string{"team", "userId"}) {
		t.Errorf("TransitiveKeys = %v", got)
	}
	if m.SAMLProviderARN() != provider || m.MultiTeam() != "choose" {
		t.Errorf("provider %q, policy %q", m.SAMLProviderARN(), m.MultiTeam())
	}
}

func TestSessionTagFailure(t *testing.T) {
	m := newMapping(t, awsSection("aws"), "  userId: user.userName\n  sessionTags: {mail: 'user.emails[0].value'}\n"+threeTeams)
	_, err := Resolve(m, newUser("jane", nil), groups("Interns"))
	var te *SessionTagError
	if !errors.As(err, &te) || te.Key != "mail" || te.Team != "interns" || !strings.Contains(te.Rule, "no such key: emails") {
		t.Fatalf("err = %v", err)
	}
}

func TestPartitions(t *testing.T) {
	for _, tt := range []struct{ partition, role, provider string }{
		{"aws", "arn:aws:iam::111122223333:role/sagebridge/sagebridge-interns", "arn:aws:iam::111122223333:saml-provider/sagebridge"},
		{"aws-us-gov", "arn:aws-us-gov:iam::111122223333:role/sagebridge/sagebridge-interns", "arn:aws-us-gov:iam::111122223333:saml-provider/sagebridge"},
		{"aws-cn", "arn:aws-cn:iam::111122223333:role/sagebridge/sagebridge-interns", "arn:aws-cn:iam::111122223333:saml-provider/sagebridge"},
	} {
		t.Run(tt.partition, func(t *testing.T) {
			body := "  userId: user.userName\n" + threeTeams +
				"  defaults:\n    executionRole:\n      managedPolicyArns: ['arn:{partition}:iam::aws:policy/AmazonSageMakerFullAccess']\n"
			m := newMapping(t, awsSection(tt.partition), body)
			id, err := Resolve(m, newUser("jane", nil), groups("Interns"))
			if err != nil {
				t.Fatal(err)
			}
			team := id.Teams[0]
			if team.FederationRoleARN != tt.role || team.SAMLRole != tt.role+","+tt.provider ||
				team.ExecutionRoleARN != strings.Replace(tt.role, "interns", "interns-execution", 1) {
				t.Errorf("team = %+v", team)
			}
			res, err := m.Team("interns")
			if err != nil {
				t.Fatal(err)
			}
			if want := "arn:" + tt.partition + ":iam::aws:policy/AmazonSageMakerFullAccess"; !reflect.DeepEqual(res.ExecutionRole.ManagedPolicyARNs, []string{want}) {
				t.Errorf("managed policies = %v, want %s", res.ExecutionRole.ManagedPolicyARNs, want)
			}
		})
	}
}

// A rule that would run away is stopped by the cost limit, not left to
// stall a sign-in.
func TestCostLimit(t *testing.T) {
	m := newMapping(t, awsSection("aws"), "  userId: \"'n' + string(size(groups.map(g, groups.map(h, h.id))))\"\n"+threeTeams)
	many := make([]store.Group, 400)
	for i := range many {
		many[i] = group("Interns", "")
	}
	if _, err := Resolve(m, newUser("jane", nil), many); !errors.Is(err, ErrInvalidUserID) || !strings.Contains(err.Error(), "cost") {
		t.Errorf("err = %v, want the cost limit", err)
	}
	if id, err := Resolve(m, newUser("jane", nil), many[:3]); err != nil || id.UserID != "n3" {
		t.Errorf("small input: %+v, %v", id, err)
	}
}

// Group documents are decoded only when a rule reads groups, and a bad one
// fails that rule instead of being read as empty.
func TestBadGroupDocument(t *testing.T) {
	bad := group("Interns", "")
	bad.Data = []byte("{not json")
	plain := newMapping(t, awsSection("aws"), "  userId: user.userName\n"+threeTeams)
	if _, err := Resolve(plain, newUser("jane", nil), []store.Group{bad}); err != nil {
		t.Errorf("a rule that ignores groups: %v", err)
	}
	reads := newMapping(t, awsSection("aws"), "  userId: user.userName + string(size(groups))\n"+threeTeams)
	if _, err := Resolve(reads, newUser("jane", nil), []store.Group{bad}); !errors.Is(err, ErrInvalidUserID) || !strings.Contains(err.Error(), "group g-Interns document") {
		t.Errorf("err = %v", err)
	}
	u := newUser("jane", nil)
	u.Data = []byte("[]")
	if _, err := Resolve(plain, u, nil); err == nil || !strings.Contains(err.Error(), "user document") {
		t.Errorf("bad user document: %v", err)
	}
}
