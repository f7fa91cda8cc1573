package awsemu

import (
	"fmt"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// The profile state machine on the injected clock: every transitional state
// lasts until 30 virtual seconds have passed, however often it is observed.
func TestProfileStateMachineOnClock(t *testing.T) {
	v := newEnv(t, Options{Async: Transition{Observations: -1, Delay: 30 * time.Second}})
	roleA := v.executionRole(t, "exec-a")
	roleB := v.executionRole(t, "exec-b")
	arn := v.createProfile(t, "alice", roleA, smtypes.Tag{Key: sdkaws.String("userId"), Value: sdkaws.String("alice")})

	status := func() smtypes.UserProfileStatus {
		t.Helper()
		out, err := v.describe(t, "alice")
		mustOK(t, err)
		return out.Status
	}
	for range 3 {
		if s := status(); s != smtypes.UserProfileStatusPending {
			t.Fatalf("status %s before the delay, want Pending", s)
		}
	}
	update := func(role string) error {
		_, err := v.sm.UpdateUserProfile(ctx, &sagemaker.UpdateUserProfileInput{
			DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("alice"),
			UserSettings: &smtypes.UserSettings{ExecutionRole: sdkaws.String(role)},
		})
		return err
	}
	err := update(roleB)
	wantCode(t, err, "ResourceInUse")
	if !isType[*smtypes.ResourceInUse](err) {
		t.Errorf("ResourceInUse not typed: %T", err)
	}

	v.clock.Advance(30 * time.Second)
	if s := status(); s != smtypes.UserProfileStatusInService {
		t.Fatalf("status %s after the delay, want InService", s)
	}

	mustOK(t, update(roleB))
	if s := status(); s != smtypes.UserProfileStatusUpdating {
		t.Fatalf("status %s after update, want Updating", s)
	}
	v.clock.Advance(30 * time.Second)
	out, err := v.describe(t, "alice")
	mustOK(t, err)
	if out.Status != smtypes.UserProfileStatusInService || sdkaws.ToString(out.UserSettings.ExecutionRole) != roleB || sdkaws.ToString(out.UserProfileArn) != arn {
		t.Fatalf("after update settled: %s role %s", out.Status, sdkaws.ToString(out.UserSettings.ExecutionRole))
	}
	if !out.LastModifiedTime.After(*out.CreationTime) {
		t.Errorf("LastModifiedTime %v not after CreationTime %v", out.LastModifiedTime, out.CreationTime)
	}

	_, err = v.sm.DeleteUserProfile(ctx, &sagemaker.DeleteUserProfileInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("alice")})
	mustOK(t, err)
	if s := status(); s != smtypes.UserProfileStatusDeleting {
		t.Fatalf("status %s after delete, want Deleting", s)
	}
	v.clock.Advance(30 * time.Second)
	_, err = v.describe(t, "alice")
	wantCode(t, err, "ResourceNotFound")
	if !isType[*smtypes.ResourceNotFound](err) || httpStatus(err) != 400 {
		t.Errorf("ResourceNotFound: %T HTTP %d", err, httpStatus(err))
	}
	_, err = v.sm.DeleteUserProfile(ctx, &sagemaker.DeleteUserProfileInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("alice")})
	wantCode(t, err, "ResourceNotFound")
	// The name is free again.
	v.createProfile(t, "alice", roleA)
}

// With the default transition, each transitional state is seen exactly once.
func TestProfileStateMachineByObservation(t *testing.T) {
	v := newEnv(t, Options{})
	v.createProfile(t, "bob", "")
	var seen []smtypes.UserProfileStatus
	for range 3 {
		out, err := v.describe(t, "bob")
		mustOK(t, err)
		seen = append(seen, out.Status)
	}
	if fmt.Sprint(seen) != "[Pending InService InService]" {
		t.Errorf("statuses = %v", seen)
	}
	_, err := v.sm.DeleteUserProfile(ctx, &sagemaker.DeleteUserProfileInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("bob")})
	mustOK(t, err)
	if got := v.settle(t, "bob"); got != "" {
		t.Errorf("deleted profile settled as %s", got)
	}
}

func TestCreateUserProfileErrors(t *testing.T) {
	v := newEnv(t, Options{Quotas: Quotas{UserProfilesPerDomain: 2}})
	role := v.executionRole(t, "exec")
	v.createRole(t, "wrong-trust", samlTrust(DefaultAccountID, "idp"))
	v.createProfile(t, "taken", role)
	tag := func(k string) smtypes.Tag { return smtypes.Tag{Key: sdkaws.String(k), Value: sdkaws.String("v")} }
	var tooMany []smtypes.Tag
	for i := range 51 {
		tooMany = append(tooMany, tag(fmt.Sprint("k", i)))
	}
	tests := []struct {
		name, domain, profile, role string
		tags                        []smtypes.Tag
		code                        string
	}{
		{name: "duplicate", profile: "taken", code: "ResourceInUse"},
		{name: "duplicate but for case", profile: "TAKEN", code: "ResourceInUse"},
		{name: "dot in name", profile: "a.b", code: "ValidationException"},
		{name: "trailing hyphen", profile: "ab-", code: "ValidationException"},
		{name: "name too long", profile: strings.Repeat("a", 64), code: "ValidationException"},
		{name: "bad domain id", domain: "D-UPPER", profile: "x", code: "ValidationException"},
		{name: "unknown domain", domain: "d-nosuchdomain", profile: "x", code: "ResourceNotFound"},
		{name: "role that does not exist", profile: "x", role: "arn:aws:iam::123456789012:role/ghost", code: "ValidationException"},
		{name: "role SageMaker cannot assume", profile: "x", role: "arn:aws:iam::123456789012:role/wrong-trust", code: "ValidationException"},
		{name: "malformed role ARN", profile: "x", role: "arn:aws:iam::123:role/", code: "ValidationException"},
		{name: "51 tags", profile: "x", tags: tooMany, code: "ValidationException"},
		{name: "reserved tag", profile: "x", tags: []smtypes.Tag{tag("aws:x")}, code: "ValidationException"},
		{name: "ok", profile: "second", role: role, code: ""},
		{name: "domain quota", profile: "third", code: "ResourceLimitExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			domain := testDomain
			if tt.domain != "" {
				domain = tt.domain
			}
			in := &sagemaker.CreateUserProfileInput{DomainId: sdkaws.String(domain), UserProfileName: sdkaws.String(tt.profile), Tags: tt.tags}
			if tt.role != "" {
				in.UserSettings = &smtypes.UserSettings{ExecutionRole: sdkaws.String(tt.role)}
			}
			_, err := v.sm.CreateUserProfile(ctx, in)
			wantCode(t, err, tt.code)
			if err != nil && httpStatus(err) != 400 {
				t.Errorf("HTTP %d, want 400", httpStatus(err))
			}
		})
	}
}

// A role just created is not visible to SageMaker at once (reference rule
// 18), counted in calls that depend on it.
func TestRoleVisibilityWindowByObservation(t *testing.T) {
	v := newEnv(t, Options{RoleVisibility: Transition{Observations: 2}})
	role := sdkaws.ToString(v.createRole(t, "exec", sageMakerTrust).Arn)
	create := func() error {
		_, err := v.sm.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{
			DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("carol"),
			UserSettings: &smtypes.UserSettings{ExecutionRole: sdkaws.String(role)},
		})
		return err
	}
	wantCode(t, create(), "ValidationException")
	wantCode(t, create(), "ValidationException")
	mustOK(t, create())
}

func TestRoleVisibilityWindowOnClock(t *testing.T) {
	v := newEnv(t, Options{RoleVisibility: Transition{Observations: -1, Delay: 10 * time.Second}})
	role := sdkaws.ToString(v.createRole(t, "exec", sageMakerTrust).Arn)
	create := func(name string) error {
		_, err := v.sm.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{
			DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String(name),
			UserSettings: &smtypes.UserSettings{ExecutionRole: sdkaws.String(role)},
		})
		return err
	}
	for range 5 {
		wantCode(t, create("dave"), "ValidationException")
	}
	if r, _ := v.emu.Role("exec"); r.VisibleToSageMaker {
		t.Errorf("role visible before the window closed")
	}
	v.clock.Advance(10 * time.Second)
	mustOK(t, create("dave"))

	// A trust change propagates too: until it has, SageMaker still sees the
	// old policy; afterwards it refuses the role.
	_, err := v.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: sdkaws.String("exec"), PolicyDocument: sdkaws.String(samlTrust(DefaultAccountID, "idp"))})
	mustOK(t, err)
	mustOK(t, create("erin"))
	v.clock.Advance(10 * time.Second)
	wantCode(t, create("frank"), "ValidationException")
}

func TestUpdateUserProfileMergesSettings(t *testing.T) {
	v := newEnv(t, Options{})
	role := v.executionRole(t, "exec")
	_, err := v.sm.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{
		DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("gina"),
		UserSettings: &smtypes.UserSettings{ExecutionRole: sdkaws.String(role), SecurityGroups: []string{"sg-1"}},
	})
	mustOK(t, err)
	v.settle(t, "gina")
	_, err = v.sm.UpdateUserProfile(ctx, &sagemaker.UpdateUserProfileInput{
		DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("gina"),
		UserSettings: &smtypes.UserSettings{DefaultLandingUri: sdkaws.String("studio::")},
	})
	mustOK(t, err)
	v.settle(t, "gina")
	out, err := v.describe(t, "gina")
	mustOK(t, err)
	s := out.UserSettings
	if sdkaws.ToString(s.ExecutionRole) != role || len(s.SecurityGroups) != 1 || sdkaws.ToString(s.DefaultLandingUri) != "studio::" {
		t.Errorf("UserSettings after update = %+v", s)
	}
	_, err = v.sm.UpdateUserProfile(ctx, &sagemaker.UpdateUserProfileInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("nobody")})
	wantCode(t, err, "ResourceNotFound")

	mustOK(t, v.emu.SetProfileStatus(testDomain, "gina", StatusFailed, "EFS quota"))
	out, err = v.describe(t, "gina")
	mustOK(t, err)
	if out.Status != smtypes.UserProfileStatusFailed || sdkaws.ToString(out.FailureReason) != "EFS quota" {
		t.Errorf("forced failure: %s %q", out.Status, sdkaws.ToString(out.FailureReason))
	}
}

func TestListUserProfiles(t *testing.T) {
	v := newEnv(t, Options{Domains: []Domain{{ID: testDomain}, {ID: "d-other"}}})
	for i := range 23 {
		v.createProfile(t, fmt.Sprintf("user-%02d", i), "")
	}
	_, err := v.sm.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{DomainId: sdkaws.String("d-other"), UserProfileName: sdkaws.String("elsewhere")})
	mustOK(t, err)

	list := func(in *sagemaker.ListUserProfilesInput) (names []string, pages int) {
		p := sagemaker.NewListUserProfilesPaginator(v.sm, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			mustOK(t, err)
			pages++
			for _, u := range out.UserProfiles {
				names = append(names, sdkaws.ToString(u.UserProfileName))
				if u.DomainId == nil || u.Status == "" || u.CreationTime == nil || u.LastModifiedTime == nil {
					t.Errorf("summary lacks fields: %+v", u)
				}
			}
		}
		return names, pages
	}
	// The default page is 10 (reference rule 25).
	if names, pages := list(&sagemaker.ListUserProfilesInput{DomainIdEquals: sdkaws.String(testDomain)}); len(names) != 23 || pages != 3 || names[0] != "user-00" {
		t.Errorf("DomainIdEquals: %d profiles in %d pages: %v", len(names), pages, names)
	}
	if names, _ := list(&sagemaker.ListUserProfilesInput{}); len(names) != 24 {
		t.Errorf("all domains: %d profiles", len(names))
	}
	if names, _ := list(&sagemaker.ListUserProfilesInput{UserProfileNameContains: sdkaws.String("USER-1"), SortOrder: smtypes.SortOrderDescending}); fmt.Sprint(names) != "[user-19 user-18 user-17 user-16 user-15 user-14 user-13 user-12 user-11 user-10]" {
		t.Errorf("contains + descending = %v", names)
	}
	_, err = v.sm.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{MaxResults: sdkaws.Int32(101)})
	wantCode(t, err, "ValidationException")
	_, err = v.sm.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{NextToken: sdkaws.String("bogus!")})
	wantCode(t, err, "ValidationException")
}

// SageMaker lowercases profile ARNs; ListTags with a case-mismatched ARN
// fails (reference rule 20). AddTags overwrites (rule 24).
func TestProfileTags(t *testing.T) {
	v := newEnv(t, Options{})
	arn := v.createProfile(t, "Alice-1", "", smtypes.Tag{Key: sdkaws.String("userId"), Value: sdkaws.String("alice")})
	if want := "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-testdomain1/alice-1"; arn != want {
		t.Fatalf("ARN = %s, want %s", arn, want)
	}
	_, err := v.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: sdkaws.String(strings.Replace(arn, "alice-1", "Alice-1", 1))})
	wantCode(t, err, "ValidationException")

	_, err = v.sm.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: sdkaws.String(arn), Tags: []smtypes.Tag{
		{Key: sdkaws.String("userId"), Value: sdkaws.String("alice2")}, {Key: sdkaws.String("team"), Value: sdkaws.String("a")},
	}})
	mustOK(t, err)
	_, err = v.sm.DeleteTags(ctx, &sagemaker.DeleteTagsInput{ResourceArn: sdkaws.String(arn), TagKeys: []string{"team", "absent"}})
	mustOK(t, err)
	out, err := v.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: sdkaws.String(arn)})
	mustOK(t, err)
	if len(out.Tags) != 1 || sdkaws.ToString(out.Tags[0].Value) != "alice2" || out.NextToken != nil {
		t.Errorf("ListTags = %+v", out.Tags)
	}

	var more []smtypes.Tag
	for i := range 49 {
		more = append(more, smtypes.Tag{Key: sdkaws.String(fmt.Sprintf("k%02d", i)), Value: sdkaws.String("")})
	}
	_, err = v.sm.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: sdkaws.String(arn), Tags: more})
	mustOK(t, err)
	_, err = v.sm.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: sdkaws.String(arn), Tags: []smtypes.Tag{{Key: sdkaws.String("one-more"), Value: sdkaws.String("")}}})
	wantCode(t, err, "ValidationException")
	n := 0
	p := sagemaker.NewListTagsPaginator(v.sm, &sagemaker.ListTagsInput{ResourceArn: sdkaws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		mustOK(t, err)
		n += len(page.Tags)
	}
	if n != 50 {
		t.Errorf("paged %d tags, want 50", n)
	}
	_, err = v.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: sdkaws.String(arn), MaxResults: sdkaws.Int32(10)})
	wantCode(t, err, "ValidationException")
	_, err = v.sm.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: sdkaws.String("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-testdomain1/ghost"), Tags: more[:1]})
	wantCode(t, err, "ValidationException")
}

func TestDescribeDomain(t *testing.T) {
	v := newEnv(t, Options{Domains: []Domain{{ID: "d-abc123", Name: "studio", ExecutionRole: "arn:aws:iam::123456789012:role/default"}}})
	out, err := v.sm.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: sdkaws.String("d-abc123")})
	mustOK(t, err)
	if sdkaws.ToString(out.DomainArn) != "arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc123" || out.Status != smtypes.DomainStatusInService ||
		out.AuthMode != smtypes.AuthModeIam || sdkaws.ToString(out.DefaultUserSettings.ExecutionRole) != "arn:aws:iam::123456789012:role/default" ||
		sdkaws.ToString(out.DomainName) != "studio" || out.CreationTime == nil || !out.CreationTime.Equal(epochStart) {
		t.Errorf("DescribeDomain = %+v", out)
	}
	_, err = v.sm.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: sdkaws.String("d-nope")})
	wantCode(t, err, "ResourceNotFound")
	if _, err := v.emu.AddDomain(Domain{ID: "d-abc123"}); err == nil {
		t.Errorf("AddDomain accepted a duplicate")
	}
}
