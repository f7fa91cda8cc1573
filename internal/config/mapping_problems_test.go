package config

import (
	"strings"
	"testing"
)

// Every problem of the aws and mapping sections, each with its line. The
// mapping body starts on line 6 (see withMapping).
func TestMappingProblems(t *testing.T) {
	ut := "  userId: user.userName\n"
	tests := []struct {
		name, src, want string
	}{
		// Expressions.
		{"userId required", withMapping(oneTeam), `c.yaml:6: mapping.userId: is required: a CEL expression`},
		{"bad CEL syntax", withMapping("  userId: user.userName.split('@'[0]\n" + oneTeam), `c.yaml:6: mapping.userId: invalid expression at column`},
		{"unknown variable", withMapping("  userId: usr.userName\n" + oneTeam), `c.yaml:6: mapping.userId: invalid expression at column 1: undeclared reference to 'usr' (did you mean 'user'?)`},
		{"tag variable in userId", withMapping("  userId: team\n" + oneTeam), `c.yaml:6: mapping.userId: invalid expression at column 1: undeclared reference to 'team'`},
		{"wrong result type", withMapping("  userId: user.active == true\n" + oneTeam), `c.yaml:6: mapping.userId: must evaluate to a string, got bool; convert it with string(...)`},
		{"optional result", withMapping("  userId: user.?externalId\n" + oneTeam), `c.yaml:6: mapping.userId: must evaluate to a string, got optional_type(dyn); end an optional chain with .orValue('...')`},
		{"unknown function", withMapping("  userId: user.userName.nope()\n" + oneTeam), `c.yaml:6: mapping.userId: invalid expression at column 19: undeclared reference to 'nope'`},
		{"block scalar line", withMapping("  userId: |\n    user.userName\n      + usr\n" + oneTeam), `c.yaml:8: mapping.userId: invalid expression at column 5: undeclared reference to 'usr'`},
		{"userId not a string", withMapping("  userId: [a]\n" + oneTeam), `c.yaml:6: mapping.userId: must be a CEL expression (a string), got a list`},
		{"tag wrong type", withMapping(ut + oneTeam + "  sessionTags: {n: size(userId)}\n"), `c.yaml:9: mapping.sessionTags.n: must evaluate to a string, got int`},
		{"tag unknown variable", withMapping(ut + oneTeam + "  sessionTags: {n: teamName}\n"), `c.yaml:9: mapping.sessionTags.n: invalid expression at column 1: undeclared reference to 'teamName'`},
		{"tag empty", withMapping(ut + oneTeam + "  sessionTags:\n    n:\n"), `c.yaml:10: mapping.sessionTags.n: must be a CEL expression over user, groups, userId and team`},
		{"tag key reserved", withMapping(ut + oneTeam + "  sessionTags: {'aws:x': userId}\n"), `c.yaml:9: mapping.sessionTags.aws:x: tag key "aws:x" starts with "aws:", which AWS reserves`},
		{"tag key too long", withMapping(ut + oneTeam + "  sessionTags: {" + strings.Repeat("k", 129) + ": userId}\n"), `tag key "kkk`},
		{"tag key comma", withMapping(ut + oneTeam + "  sessionTags: {'a,b': userId}\n"), `c.yaml:9: mapping.sessionTags.a,b: tag key "a,b" holds ','`},
		{"tag keys differ in case", withMapping(ut + oneTeam + "  sessionTags: {team: team, Team: team}\n"), `c.yaml:9: mapping.sessionTags.team: "Team" and "team" differ only in case`},
		{"too many tags", withMapping(ut + oneTeam + "  sessionTags: {" + manyTags(51) + "}\n"), `c.yaml:9: mapping.sessionTags: has 51 tags; AWS accepts at most 50 session tags (TAG-3)`},
		{"transitive not a tag", withMapping(ut + oneTeam + "  transitiveTagKeys: [userId, email]\n"), `c.yaml:9: mapping.transitiveTagKeys[1]: "email" is not a key of mapping.sessionTags`},
		{"transitive twice", withMapping(ut + oneTeam + "  transitiveTagKeys: [team, team]\n"), `c.yaml:9: mapping.transitiveTagKeys[1]: "team" is listed twice`},

		// Sanitising and policies.
		{"maxLength big", withMapping(ut + oneTeam + "  sanitize: {maxLength: 64}\n"), `c.yaml:9: mapping.sanitize.maxLength: must be from 2 (RoleSessionName minimum) to 63 (SageMaker profile name maximum), got 64`},
		{"maxLength small", withMapping(ut + oneTeam + "  sanitize: {maxLength: 1, tooLong: refuse}\n"), `mapping.sanitize.maxLength: must be from 2`},
		{"maxLength hash", withMapping(ut + oneTeam + "  sanitize: {maxLength: 9}\n"), `c.yaml:9: mapping.sanitize.maxLength: must be at least 10 with tooLong: hash`},
		{"replaceWith", withMapping(ut + oneTeam + "  sanitize: {replaceWith: _}\n"), `c.yaml:9: mapping.sanitize.replaceWith: must be "-" or ""`},
		{"tooLong", withMapping(ut + oneTeam + "  sanitize: {tooLong: cut}\n"), `c.yaml:9: mapping.sanitize.tooLong: must be one of hash, truncate, refuse, got "cut"`},
		{"multiTeam", withMapping(ut + oneTeam + "  multiTeam: all\n"), `c.yaml:9: mapping.multiTeam: must be one of first, choose, deny, got "all"`},

		// Teams.
		{"no teams", withMapping(ut), `c.yaml:6: mapping.teams: is required`},
		{"teams and teamsFrom", withMapping(ut + oneTeam + "  teamsFrom: {displayNamePrefix: t-}\n"), `c.yaml:9: mapping.teamsFrom: set either teams or teamsFrom, not both`},
		{"teamsFrom prefix", withMapping(ut + "  teamsFrom: {overrides: {}}\n"), `c.yaml:7: mapping.teamsFrom.displayNamePrefix: is required`},
		{"override name", withMapping(ut + "  teamsFrom:\n    displayNamePrefix: t-\n    overrides:\n      'a b': {priority: 1}\n"), `c.yaml:10: mapping.teamsFrom.overrides.a b: "a b" must start with a letter or digit`},
		{"team name", withMapping(ut + "  teams:\n    - {name: -x, groups: [{displayName: A}]}\n"), `c.yaml:8: mapping.teams[0].name: "-x" must start with a letter or digit`},
		{"team name case", withMapping(ut + "  teams:\n    - {name: ab, groups: [{displayName: A}]}\n    - {name: AB, groups: [{displayName: B}]}\n"), `c.yaml:9: mapping.teams[1].name: team "AB" is already defined at mapping.teams[0].name`},
		{"team without groups", withMapping(ut + "  teams:\n    - {name: a}\n"), `c.yaml:8: mapping.teams[0].groups: must list at least one group`},
		{"group ref both", withMapping(ut + "  teams:\n    - {name: a, groups: [{displayName: A, externalId: x}]}\n"), `c.yaml:8: mapping.teams[0].groups[0]: set exactly one of displayName and externalId`},
		{"group in two teams", withMapping(ut + "  teams:\n    - {name: a, groups: [{displayName: Grp}]}\n    - name: b\n      groups:\n        - displayName: GRP\n"),
			`c.yaml:11: mapping.teams[1].groups[0].displayName: the group with displayName GRP is already in team "a"; a group makes one team`},
		{"externalId in two teams", withMapping(ut + "  teams:\n    - {name: a, groups: [{externalId: x}]}\n    - {name: b, groups: [{externalId: x}]}\n"), `mapping.teams[1].groups[0].externalId: the group with externalId x is already in team "a"`},

		// Per-team settings and IAM limits.
		{"session too short", withMapping(ut + oneTeam + "  defaults: {sessionDuration: 10m}\n"), `c.yaml:9: mapping.defaults.sessionDuration: must be whole seconds from 15m to 12h (SAML SessionDuration 900-43200), got 10m0s`},
		{"session too long", withMapping(ut + "  teams:\n    - name: a\n      groups: [{displayName: A}]\n      sessionDuration: 13h\n"), `c.yaml:10: mapping.teams[0].sessionDuration: must be whole seconds from 15m to 12h`},
		{"session fraction", withMapping(ut + oneTeam + "  defaults: {sessionDuration: 1h0.5s}\n"), `mapping.defaults.sessionDuration: must be whole seconds`},
		{"max session floor", withMapping(ut + oneTeam + "  defaults: {maxSessionDuration: 30m}\n"), `c.yaml:9: mapping.defaults.maxSessionDuration: must be whole seconds from 1h to 12h (IAM role MaxSessionDuration 3600-43200), got 30m0s`},
		{"max below session", withMapping(ut + oneTeam + "  defaults: {sessionDuration: 8h, maxSessionDuration: 2h}\n"), `c.yaml:9: mapping.defaults.maxSessionDuration: 2h0m0s is shorter than sessionDuration 8h0m0s`},
		{"path", withMapping(ut + oneTeam + "  defaults: {path: sagebridge}\n"), `c.yaml:9: mapping.defaults.path: "sagebridge" must be "/" or start and end with "/"`},
		{"path placeholder", withMapping(ut + oneTeam + "  defaults: {path: '/{teams}/'}\n"), `c.yaml:9: mapping.defaults.path: unknown placeholder {teams}`},
		{"role without team", withMapping(ut + oneTeam + "  defaults:\n    federationRole: {name: fixed}\n"), `c.yaml:10: mapping.defaults.federationRole.name: "fixed" must contain {team}`},
		{"role too long", withMapping(ut + "  teams:\n    - {name: " + strings.Repeat("t", 45) + ", groups: [{displayName: A}]}\n"),
			`c.yaml:6: mapping.defaults.executionRole.name: for team "ttttttttttttttttttttttttttttttttttttttttttttt": "sagebridge-ttttttttttttttttttttttttttttttttttttttttttttt-execution" is 66 characters; IAM allows at most 64`},
		{"role bad char", withMapping(ut + oneTeam + "  defaults:\n    executionRole: {name: 'x/{team}'}\n"), `c.yaml:10: mapping.defaults.executionRole.name: for team "a": "x/a" may hold only letters, digits and _+=,.@-`},
		{"roles share a name", withMapping(ut + oneTeam + "  defaults:\n    executionRole: {name: 'Sagebridge-{team}'}\n"), `c.yaml:10: mapping.defaults.executionRole.name: "Sagebridge-a" is also the federation role's name`},
		{"roles of two teams collide", withMapping(ut + "  teams:\n    - {name: a-execution, groups: [{displayName: A}]}\n    - {name: a, groups: [{displayName: B}]}\n"),
			`the execution role of team "a" would be "sagebridge-a-execution", which is already the federation role of team "a-execution"`},
		{"policy ARN", withMapping(ut + oneTeam + "  defaults:\n    federationRole: {managedPolicyArns: [nonsense]}\n"), `c.yaml:10: mapping.defaults.federationRole.managedPolicyArns[0]: must be a managed policy ARN such as arn:{partition}:iam::aws:policy/NAME, got "nonsense"`},
		{"policy ARN partition", withMapping(ut + oneTeam + "  defaults:\n    federationRole: {managedPolicyArns: ['arn:aws-cn:iam::aws:policy/P']}\n"), `c.yaml:10: mapping.defaults.federationRole.managedPolicyArns[0]: is in partition "aws-cn" but aws.partition is "aws"`},
		{"policy ARN placeholder", withMapping(ut + oneTeam + "  defaults:\n    federationRole: {managedPolicyArns: ['arn:{part}:iam::aws:policy/P']}\n"), `unknown placeholder {part}`},
		{"policy ARN twice", withMapping(ut + oneTeam + "  defaults:\n    federationRole: {managedPolicyArns: ['arn:aws:iam::aws:policy/P', 'arn:{partition}:iam::aws:policy/P']}\n"), `managedPolicyArns[1]: "arn:aws:iam::aws:policy/P" is listed twice`},
		{"too many policies", withMapping(ut + oneTeam + "  defaults:\n    federationRole: {managedPolicyArns: [" + manyARNs(11) + "]}\n"), `c.yaml:10: mapping.defaults.federationRole.managedPolicyArns: lists 11 policies; the account allows 10 per role (aws.quotas.managedPoliciesPerRole)`},
		{"policy file missing", withMapping(ut + oneTeam + "  defaults:\n    federationRole: {policyFiles: [nope.json]}\n"), `c.yaml:10: mapping.defaults.federationRole.policyFiles[0]: nope.json: cannot read policy file`},

		// Sections and the aws section.
		{"mapping without aws", "mapping:\n" + ut + oneTeam, `c.yaml:2: mapping: needs an aws section`},
		{"aws without mapping", validAWS, `c.yaml:2: aws: needs a mapping section`},
		{"account", strings.Replace(withMapping(ut+oneTeam), `"111122223333"`, "12345", 1), `c.yaml:2: aws.accountId: must be the 12-digit account ID (quote it to keep leading zeros), got "12345"`},
		{"partition", strings.Replace(withMapping(ut+oneTeam), "eu-west-1\n", "eu-west-1\n  partition: aws-eu\n", 1), `c.yaml:4: aws.partition: must be one of aws, aws-us-gov, aws-cn, got "aws-eu"`},
		{"region", strings.Replace(withMapping(ut+oneTeam), "eu-west-1", "Europe", 1), `c.yaml:3: aws.region: must be a region code such as eu-west-1, got "Europe"`},
		{"region partition", strings.Replace(withMapping(ut+oneTeam), "eu-west-1", "cn-north-1", 1), `c.yaml:3: aws.region: "cn-north-1" is in partition aws-cn, but aws.partition is aws`},
		{"domain", strings.Replace(withMapping(ut+oneTeam), "d-abc123", "abc", 1), `c.yaml:4: aws.sagemaker.domainId: must be a SageMaker domain ID`},
		{"ownership value", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  ownershipTag: {value: '"+strings.Repeat("v", 257)+"'}\n", 1), `c.yaml:5: aws.ownershipTag.value: tag value is 257 characters; AWS allows at most 256`},
		{"saml provider", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  samlProviderName: a/b\n", 1), `c.yaml:5: aws.samlProviderName: must be 1-128 letters, digits and ._-, got "a/b"`},
		{"rate", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  rateLimits: {sagemaker: 0}\n", 1), `c.yaml:5: aws.rateLimits.sagemaker: must be more than 0 and at most 1000 calls per second, got 0`},
		{"threshold", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  deletionThreshold: {percent: 101}\n", 1), `c.yaml:5: aws.deletionThreshold.percent: must be from 0 to 100, got 101`},
		{"grace", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  deprovision: {grace: -1h}\n", 1), `c.yaml:5: aws.deprovision.grace: must not be negative, got -1h0m0s`},
		{"quota", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  quotas: {managedPoliciesPerRole: 26}\n", 1), `c.yaml:5: aws.quotas.managedPoliciesPerRole: must be from 1 to 25 (AWS's default is 10), got 26`},
		{"workers", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  sync: {workers: 0}\n", 1), `c.yaml:5: aws.sync.workers: must be from 1 to 64, got 0`},
		{"resync", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  sync: {resyncInterval: 10s}\n", 1), `c.yaml:5: aws.sync.resyncInterval: must be at least 1m, got 10s`},
		{"verify", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  sync: {verifyRate: -1}\n", 1), `c.yaml:5: aws.sync.verifyRate: must be from 0 to 1000 keys per second, got -1`},
		{"poll", strings.Replace(withMapping(ut+oneTeam), "d-abc123}\n", "d-abc123}\n  sync: {pollInterval: 1ms}\n", 1), `c.yaml:5: aws.sync.pollInterval: must be at least 100ms, got 1ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantOneProblem(t, tt.src, tt.want) })
	}
}

func manyTags(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strings.Repeat("x", i) + ": userId"
	}
	return strings.Join(keys, ", ")
}

func manyARNs(n int) string {
	arns := make([]string, n)
	for i := range arns {
		arns[i] = "'arn:aws:iam::aws:policy/P" + strings.Repeat("x", i) + "'"
	}
	return strings.Join(arns, ", ")
}

func TestPolicyFileProblems(t *testing.T) {
	ok := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:{{.Partition}}:s3:::{{.Team}}"}]}`
	tests := []struct {
		name, file, body, want string
	}{
		{"valid", "p/ok.json", ok, ""},
		{"not JSON", "bad.json", `{"Version": "2012-10-17",`, `bad.json for team "a": is not a JSON object`},
		{"no statement", "s.json", `{"Version": "2012-10-17"}`, `has no Statement`},
		{"old version", "v.json", `{"Statement": []}`, `must say "Version": "2012-10-17" (policy variables need it)`},
		{"template syntax", "t.json", `{{.Team`, `t.json: invalid template`},
		{"unknown field", "f.json", `{"Version": "2012-10-17", "Statement": "{{.Teem}}"}`, `can't evaluate field Teem`},
		{"character", "c.json", "{\"Version\": \"2012-10-17\", \"Statement\": \"\u2603\"}", `IAM accepts only tab, newline, carriage return and U+0020-U+00FF`},
		{"name", "a b.json", ok, `the inline policy name comes from the file name`},
		{"too big", "big.json", `{"Version": "2012-10-17", "Statement": [], "Id": "` + strings.Repeat("x", 10300) + `"}`, `for team "a" the inline policies total`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFiles(t, map[string]string{tt.file: tt.body})
			src := withMapping("  userId: user.userName\n" + oneTeam + "  defaults:\n    executionRole:\n      policyFiles: ['" + tt.file + "']\n")
			_, err := Parse(path, []byte(src))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("want no problem, got %v", err)
			case tt.want == "":
				return
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got %v\nwant a problem containing %q", err, tt.want)
			case !strings.Contains(err.Error(), "c.yaml:11: mapping.defaults.executionRole.policyFiles"):
				t.Errorf("problem not at the policyFiles line: %v", err)
			}
		})
	}
}

func TestPolicyFilesTwoTeamsOneName(t *testing.T) {
	doc := `{"Version": "2012-10-17", "Statement": []}`
	path := writeFiles(t, map[string]string{"a/p.json": doc, "b/p.json.tmpl": doc})
	src := withMapping("  userId: user.userName\n" + oneTeam + "  defaults:\n    executionRole:\n      policyFiles: [a/p.json, b/p.json.tmpl]\n")
	_, err := Parse(path, []byte(src))
	if err == nil || !strings.Contains(err.Error(), `policyFiles[1]: a/p.json and b/p.json.tmpl would both be the inline policy "p"`) {
		t.Errorf("err = %v", err)
	}
}

func TestExampleCompiles(t *testing.T) {
	c, err := Load("../../configs/bridge.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	comp, err := c.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if comp.UserID == nil || len(comp.SessionTags) != 3 || len(comp.Policies) != 2 {
		t.Errorf("compiled %+v", comp)
	}
	p := comp.Policies["policies/federation-abac.json"]
	if p == nil || p.Name != "federation-abac" {
		t.Fatalf("policy = %+v", p)
	}
	doc, err := p.Render(PolicyData{Team: "research", AccountID: "111122223333", DomainID: "d-abc123def456", Region: "eu-west-1", Partition: "aws"})
	if err != nil || !strings.Contains(doc, "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123def456/*") ||
		!strings.Contains(doc, "${aws:PrincipalTag/userId}") {
		t.Errorf("rendered %s, %v", doc, err)
	}
}

func TestCompileWithoutMapping(t *testing.T) {
	if _, err := Default().Compile(); err == nil {
		t.Error("Compile of a configuration without mapping succeeded")
	}
	// A configuration built in code compiles on demand.
	c, err := Parse("c.yaml", []byte(withMapping("  userId: user.userName\n"+oneTeam)))
	if err != nil {
		t.Fatal(err)
	}
	c.compiled = nil
	if comp, err := c.Compile(); err != nil || comp.UserID == nil {
		t.Errorf("Compile = %v, %v", comp, err)
	}
	c.Mapping.MultiTeam = "some"
	if _, err := c.Compile(); err == nil || !strings.Contains(err.Error(), "mapping.multiTeam") {
		t.Errorf("Compile of an invalid mapping: %v", err)
	}
}

func TestBrokenPolicyReportedOnce(t *testing.T) {
	path := writeFiles(t, map[string]string{"p.json": `{"Version": "2012-10-17"}`})
	src := withMapping("  userId: user.userName\n  teams:\n" +
		"    - {name: a, groups: [{displayName: A}]}\n    - {name: b, groups: [{displayName: B}]}\n    - {name: c, groups: [{displayName: C}]}\n" +
		"  defaults:\n    federationRole: {policyFiles: [p.json]}\n    executionRole: {policyFiles: [p.json]}\n")
	_, err := Parse(path, []byte(src))
	if err == nil || strings.Count(err.Error(), "has no Statement") != 1 {
		t.Errorf("err = %v, want the policy reported once", err)
	}
}
