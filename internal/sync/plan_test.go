package sync

import (
	"errors"
	"strings"
	"testing"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

var testOwner = bridgeaws.Owner{Key: "sagebridge:managed", Value: "true"}

func acts(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, "; ")
}

func TestPlanSAML(t *testing.T) {
	d := samlSpec{Name: "sagebridge", ARN: "arn:aws:iam::1:saml-provider/sagebridge", Metadata: "<md v=2/>"}
	owned := map[string]string{"sagebridge:managed": "true"}
	for _, tt := range []struct {
		name     string
		a        samlState
		want     string
		conflict bool
	}{
		{name: "missing", a: samlState{}, want: "CreateSAMLProvider sagebridge"},
		{name: "equal", a: samlState{Exists: true, Metadata: "<md v=2/>\n", Tags: owned}},
		{name: "metadata changed", a: samlState{Exists: true, Metadata: "<md v=1/>", Tags: owned}, want: "UpdateSAMLProvider sagebridge"},
		{name: "not owned", a: samlState{Exists: true, Metadata: "<md v=1/>"}, conflict: true},
	} {
		got, err := planSAML(d, tt.a, testOwner)
		if errors.Is(err, ErrConflict) != tt.conflict || (err != nil && !tt.conflict) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if acts(got) != tt.want {
			t.Errorf("%s: plan %q, want %q", tt.name, acts(got), tt.want)
		}
	}
}

func TestPlanRole(t *testing.T) {
	trust := federationTrust("arn:aws:iam::1:saml-provider/sb", "https://signin.aws.amazon.com/saml", []string{"userId", "team"})
	d := roleSpec{
		Name: "sb-a", Path: "/sb/", Trust: trust, MaxSession: 7200,
		Tags:    map[string]string{"team": "a", "sagebridge:managed": "true"},
		Managed: []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"},
		Inline:  map[string]string{"abac": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}`},
	}
	// What IAM returns for the same role: reformatted, arrays collapsed,
	// keys reordered, tag key case changed.
	same := roleState{
		Exists: true, Path: "/sb/", MaxSession: 7200,
		Trust:   reformat(trust),
		Tags:    map[string]string{"Team": "a", "sagebridge:managed": "true", "extra": "kept"},
		Managed: []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"},
		Inline:  map[string]string{"abac": `{"Statement":{"Resource":"*","Action":"s3:GetObject","Effect":"Allow"},"Version":"2012-10-17"}`},
	}
	with := func(f func(*roleState)) roleState {
		a := same
		a.Tags = map[string]string{"team": "a", "sagebridge:managed": "true"}
		a.Inline = map[string]string{"abac": same.Inline["abac"]}
		a.Managed = append([]string(nil), same.Managed...)
		f(&a)
		return a
	}
	for _, tt := range []struct {
		name string
		a    roleState
		want string
		err  string
	}{
		{name: "missing", a: roleState{},
			want: "CreateRole sb-a; PutRolePolicy sb-a (abac); AttachRolePolicy sb-a (arn:aws:iam::aws:policy/A); AttachRolePolicy sb-a (arn:aws:iam::aws:policy/B)"},
		{name: "equal but reformatted", a: same},
		{name: "trust changed", a: with(func(a *roleState) { a.Trust = strings.Replace(trust, "signin.aws", "evil", 1) }),
			want: "UpdateAssumeRolePolicy sb-a"},
		{name: "max session", a: with(func(a *roleState) { a.MaxSession = 3600 }), want: "UpdateRole sb-a (MaxSessionDuration 7200)"},
		{name: "tag value", a: with(func(a *roleState) { a.Tags["team"] = "b" }), want: "TagRole sb-a (team)"},
		{name: "extra inline policy, changed document", a: with(func(a *roleState) {
			a.Inline["old"] = `{}`
			a.Inline["abac"] = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
		}), want: "DeleteRolePolicy sb-a (old); PutRolePolicy sb-a (abac)"},
		{name: "managed policies", a: with(func(a *roleState) { a.Managed = []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/C"} }),
			want: "DetachRolePolicy sb-a (arn:aws:iam::aws:policy/C); AttachRolePolicy sb-a (arn:aws:iam::aws:policy/B)"},
		{name: "not owned", a: with(func(a *roleState) { delete(a.Tags, "sagebridge:managed") }), err: "conflict"},
		{name: "owner value differs", a: with(func(a *roleState) { a.Tags["sagebridge:managed"] = "false" }), err: "conflict"},
		{name: "path moved", a: with(func(a *roleState) { a.Path = "/other/" }), err: "cannot move"},
		{name: "name differs in case", a: with(func(a *roleState) { a.Name = "SB-A" }), err: "regardless of case"},
	} {
		got, err := planRole(d, tt.a, testOwner)
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.err)
		}
		if acts(got) != tt.want {
			t.Errorf("%s: plan\n got %q\nwant %q", tt.name, acts(got), tt.want)
		}
	}
}

// reformat returns the document as IAM would: one-element arrays
// collapsed, keys in another order, whitespace.
func reformat(doc string) string {
	c, _ := canonicalPolicy(doc)
	return " " + strings.ReplaceAll(c, ",", ", ") + "\n"
}

func TestPlanRoleDelete(t *testing.T) {
	a := roleState{Exists: true, Tags: map[string]string{"sagebridge:managed": "true"},
		Inline: map[string]string{"b": "{}", "a": "{}"}, Managed: []string{"arn:p"}}
	got, err := planRoleDelete("r", a, testOwner)
	want := "DeleteRolePolicy r (a); DeleteRolePolicy r (b); DetachRolePolicy r (arn:p); DeleteRole r"
	if err != nil || acts(got) != want {
		t.Errorf("plan %q, %v; want %q", acts(got), err, want)
	}
	if got, err := planRoleDelete("r", roleState{}, testOwner); err != nil || len(got) != 0 {
		t.Errorf("missing role: %v %v", got, err)
	}
	a.Tags = nil
	if _, err := planRoleDelete("r", a, testOwner); !errors.Is(err, ErrConflict) {
		t.Errorf("unowned role: err = %v", err)
	}
}

func TestPlanProfile(t *testing.T) {
	active := profileSpec{Domain: "d-1", Name: "alice", ExecutionRole: "arn:role/exec-a",
		Tags: map[string]string{"userId": "alice", "team": "a", "sagebridge:managed": "true"}}
	suspended := profileSpec{Domain: "d-1", Name: "alice", Tags: map[string]string{"sagebridge:managed": "true"}, Absent: []string{"userId"}}
	inService := func(role string, tags ...string) ProfileState {
		m := map[string]string{}
		for i := 0; i+1 < len(tags); i += 2 {
			m[tags[i]] = tags[i+1]
		}
		return ProfileState{Exists: true, ARN: "arn:p/alice", Status: "InService", ExecutionRole: role, Tags: m}
	}
	all := []string{"userId", "alice", "team", "a", "sagebridge:managed", "true"}
	for _, tt := range []struct {
		name string
		d    profileSpec
		a    ProfileState
		want string
		wait bool
		err  string
	}{
		{name: "missing", d: active, a: ProfileState{}, want: "CreateUserProfile alice (ExecutionRole arn:role/exec-a; tags sagebridge:managed,team,userId)"},
		{name: "converged", d: active, a: inService("arn:role/exec-a", all...)},
		{name: "team move", d: active, a: inService("arn:role/exec-b", "userId", "alice", "team", "b", "sagebridge:managed", "true"),
			want: "UpdateUserProfile alice (ExecutionRole arn:role/exec-a); AddTags alice (team)"},
		{name: "rename changes the tag, never the name", d: active, a: inService("arn:role/exec-a", "userId", "alice.old", "team", "a", "sagebridge:managed", "true"),
			want: "AddTags alice (userId)"},
		{name: "reactivation restores userId", d: active, a: inService("arn:role/exec-a", "team", "a", "sagebridge:managed", "true"),
			want: "AddTags alice (userId)"},
		{name: "pending waits", d: active, a: ProfileState{Exists: true, Status: "Pending", Tags: map[string]string{"sagebridge:managed": "true"}}, wait: true},
		{name: "updating waits", d: active, a: ProfileState{Exists: true, Status: "Updating", Tags: map[string]string{"sagebridge:managed": "true"}}, wait: true},
		{name: "failed is reported", d: active, a: ProfileState{Exists: true, Status: "Failed", FailureReason: "no EFS", Tags: map[string]string{"sagebridge:managed": "true"}}, err: "no EFS"},
		{name: "update failed is retried", d: active, a: func() ProfileState { a := inService("arn:role/exec-a", all...); a.Status = "Update_Failed"; return a }(),
			want: "UpdateUserProfile alice (ExecutionRole arn:role/exec-a)"},
		{name: "unowned is a conflict", d: active, a: inService("arn:role/x", "userId", "alice"), err: "conflict"},
		{name: "suspend removes userId only", d: suspended, a: inService("arn:role/exec-a", all...), want: "DeleteTags alice (userId)"},
		{name: "suspended", d: suspended, a: inService("arn:role/exec-a", "team", "a", "sagebridge:managed", "true")},
	} {
		got, wait, err := planProfile(tt.d, tt.a, testOwner)
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.err)
		}
		if acts(got) != tt.want || wait != tt.wait {
			t.Errorf("%s: plan %q wait %v, want %q wait %v", tt.name, acts(got), wait, tt.want, tt.wait)
		}
	}
}

func TestPoliciesCompareParsed(t *testing.T) {
	base := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["a:X","a:Y"],"Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":true}}}]}`
	for _, tt := range []struct {
		name  string
		other string
		equal bool
	}{
		{"identical", base, true},
		{"collapsed and reordered", `{"Statement":{"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}},"Action":["a:Y","a:X"],"Effect":"Allow"},"Version":"2012-10-17"}`, true},
		{"whitespace", strings.ReplaceAll(base, ",", " ,\n "), true},
		{"duplicate action", strings.Replace(base, `"a:Y"]`, `"a:Y","a:X"]`, 1), true},
		{"other action", strings.Replace(base, "a:Y", "a:Z", 1), false},
		{"other effect", strings.Replace(base, "Allow", "Deny", 1), false},
		{"not JSON", "{", false},
	} {
		if got := policiesEqual(base, tt.other); got != tt.equal {
			t.Errorf("%s: equal = %v, want %v", tt.name, got, tt.equal)
		}
	}
}

func TestDecodePolicy(t *testing.T) {
	doc := `{"Statement":{"Action":"s3:Get*","Condition":{"StringLike":{"s3:prefix":"a+b c%"}}}}`
	// How IAM encodes: RFC 3986, so a space is %20 and a plus stays %2B.
	encoded := "%7B%22Statement%22%3A%7B%22Action%22%3A%22s3%3AGet%2A%22%2C%22Condition%22%3A%7B%22StringLike%22%3A%7B%22s3%3Aprefix%22%3A%22a%2Bb%20c%25%22%7D%7D%7D%7D"
	for _, in := range []string{encoded, doc} {
		got, err := decodePolicy(in)
		if err != nil || got != doc {
			t.Errorf("decodePolicy(%.20s…) = %q, %v", in, got, err)
		}
	}
}

func TestFederationTrust(t *testing.T) {
	got := federationTrust("arn:aws:iam::123456789012:saml-provider/sagebridge", "https://signin.aws.amazon.com/saml", []string{"userId", "team"})
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/sagebridge"},` +
		`"Action":["sts:AssumeRoleWithSAML","sts:SetSourceIdentity","sts:TagSession"],` +
		`"Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","userId"]},"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	if got != want {
		t.Errorf("federation trust\n got %s\nwant %s", got, want)
	}
	if got := federationTrust("arn:p", "https://signin.amazonaws.cn/saml", nil); strings.Contains(got, "TagKeys") || !strings.Contains(got, "signin.amazonaws.cn") {
		t.Errorf("without session tags: %s", got)
	}
	if !strings.Contains(executionTrust(), `"Service":"sagemaker.amazonaws.com"`) {
		t.Errorf("execution trust: %s", executionTrust())
	}
}

func TestHashOfIsStable(t *testing.T) {
	a := profileSpec{Name: "x", Tags: map[string]string{"a": "1", "b": "2", "c": "3"}}
	b := profileSpec{Name: "x", Tags: map[string]string{"c": "3", "b": "2", "a": "1"}}
	if hashOf(a) != hashOf(b) || hashOf(a) == hashOf(profileSpec{Name: "y"}) {
		t.Error("hashOf must depend on content only")
	}
	if len(hashOf(a)) != 32 {
		t.Errorf("hash %q", hashOf(a))
	}
}

func TestCheckRoleLimits(t *testing.T) {
	ok := roleSpec{Name: "r", Trust: executionTrust(), Managed: []string{"a"}, Inline: map[string]string{"p": "{}"}, Tags: map[string]string{"team": "x"}}
	if err := checkRoleLimits("x", ok, 10); err != nil {
		t.Fatalf("within limits: %v", err)
	}
	for _, tt := range []struct {
		name string
		mod  func(*roleSpec)
		want string
	}{
		{"trust", func(r *roleSpec) { r.Trust = strings.Repeat("x", 2049) }, "ACLSizePerRole"},
		{"managed", func(r *roleSpec) { r.Managed = make([]string, 11) }, "managedPoliciesPerRole"},
		{"inline", func(r *roleSpec) {
			r.Inline = map[string]string{"a": strings.Repeat("x", 6000), "b": strings.Repeat("y", 5000)}
		}, "inline policies total 11000"},
	} {
		r := ok
		tt.mod(&r)
		if err := checkRoleLimits("x", r, 10); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "team x") {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
