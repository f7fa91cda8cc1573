package awsemu

import (
	"fmt"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

func (v *env) apps(t *testing.T, in *sagemaker.ListAppsInput) []smtypes.AppDetails {
	t.Helper()
	var out []smtypes.AppDetails
	p := sagemaker.NewListAppsPaginator(v.sm, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		mustOK(t, err)
		out = append(out, page.Apps...)
	}
	return out
}

func (v *env) spaces(t *testing.T) []smtypes.SpaceDetails {
	t.Helper()
	var out []smtypes.SpaceDetails
	p := sagemaker.NewListSpacesPaginator(v.sm, &sagemaker.ListSpacesInput{DomainIdEquals: sdkaws.String(testDomain)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		mustOK(t, err)
		out = append(out, page.Spaces...)
	}
	return out
}

// poll calls done until it returns true, a bounded number of times: the
// emulator's states advance by observation, so no waiting is involved.
func poll(t *testing.T, done func() bool) {
	t.Helper()
	for range 10 {
		if done() {
			return
		}
	}
	t.Fatal("state did not advance in 10 observations")
}

func (v *env) deleteProfile(name string) error {
	_, err := v.sm.DeleteUserProfile(ctx, &sagemaker.DeleteUserProfileInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String(name)})
	return err
}

// The deprovisioning order of reference rule 26, step by step: the profile
// cannot go while it has apps or owns spaces; apps and spaces are deleted
// asynchronously; Deleted apps stay listed and no longer block.
func TestProfileDeleteWaitsForAppsAndSpaces(t *testing.T) {
	v := newEnv(t, Options{})
	v.createProfile(t, "alice", "", smtypes.Tag{Key: sdkaws.String("userId"), Value: sdkaws.String("alice")})
	v.settle(t, "alice")
	appARN, err := v.emu.AddApp(App{DomainID: testDomain, UserProfileName: "alice", AppType: "JupyterServer"})
	mustOK(t, err)
	_, err = v.emu.AddSpace(Space{DomainID: testDomain, SpaceName: "alice-private", OwnerUserProfileName: "alice"})
	mustOK(t, err)
	_, err = v.emu.AddApp(App{DomainID: testDomain, SpaceName: "alice-private", AppType: "JupyterLab"})
	mustOK(t, err)
	_, err = v.emu.AddSpace(Space{DomainID: testDomain, SpaceName: "team-shared", SharingType: "Shared"})
	mustOK(t, err)

	// Apps launched by the profile carry its tags (reference rule 24).
	tags, err := v.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: sdkaws.String(appARN)})
	mustOK(t, err)
	if len(tags.Tags) != 1 || sdkaws.ToString(tags.Tags[0].Key) != "userId" {
		t.Errorf("app tags = %+v", tags.Tags)
	}

	err = v.deleteProfile("alice")
	wantCode(t, err, "ResourceInUse")
	if !strings.Contains(err.Error(), "App(s) are associated with it") {
		t.Errorf("message: %v", err)
	}

	// The profile's own app.
	_, err = v.sm.DeleteApp(ctx, &sagemaker.DeleteAppInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("alice"), AppType: smtypes.AppTypeJupyterServer, AppName: sdkaws.String("default")})
	mustOK(t, err)
	_, err = v.sm.DeleteApp(ctx, &sagemaker.DeleteAppInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String("alice"), AppType: smtypes.AppTypeJupyterServer, AppName: sdkaws.String("default")})
	wantCode(t, err, "ResourceInUse") // already Deleting, and now seen so
	own := &sagemaker.ListAppsInput{DomainIdEquals: sdkaws.String(testDomain), UserProfileNameEquals: sdkaws.String("alice")}
	if a := v.apps(t, own); len(a) != 1 || a[0].Status != smtypes.AppStatusDeleted {
		t.Fatalf("apps after deletion = %+v (Deleted apps stay listed)", a)
	}
	_, err = v.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: sdkaws.String(appARN)})
	wantCode(t, err, "ValidationException")

	// Still blocked: the profile owns a space.
	err = v.deleteProfile("alice")
	wantCode(t, err, "ResourceInUse")
	if !strings.Contains(err.Error(), "Space(s)") {
		t.Errorf("message: %v", err)
	}

	// ListSpaces has no owner filter; clients filter on the summary.
	var owned []string
	for _, s := range v.spaces(t) {
		if s.OwnershipSettingsSummary != nil && sdkaws.ToString(s.OwnershipSettingsSummary.OwnerUserProfileName) == "alice" {
			owned = append(owned, sdkaws.ToString(s.SpaceName))
			if s.SpaceSharingSettingsSummary.SharingType != smtypes.SharingTypePrivate {
				t.Errorf("sharing = %s", s.SpaceSharingSettingsSummary.SharingType)
			}
		}
	}
	if fmt.Sprint(owned) != "[alice-private]" {
		t.Fatalf("owned spaces = %v", owned)
	}
	describeSpace := func() (*sagemaker.DescribeSpaceOutput, error) {
		return v.sm.DescribeSpace(ctx, &sagemaker.DescribeSpaceInput{DomainId: sdkaws.String(testDomain), SpaceName: sdkaws.String("alice-private")})
	}
	d, err := describeSpace()
	mustOK(t, err)
	if sdkaws.ToString(d.OwnershipSettings.OwnerUserProfileName) != "alice" || d.Status != smtypes.SpaceStatusInService ||
		d.SpaceSharingSettings.SharingType != smtypes.SharingTypePrivate || !strings.HasSuffix(sdkaws.ToString(d.SpaceArn), ":space/"+testDomain+"/alice-private") {
		t.Errorf("DescribeSpace = %+v", d)
	}
	deleteSpace := func() error {
		_, err := v.sm.DeleteSpace(ctx, &sagemaker.DeleteSpaceInput{DomainId: sdkaws.String(testDomain), SpaceName: sdkaws.String("alice-private")})
		return err
	}
	wantCode(t, deleteSpace(), "ResourceInUse") // its app runs
	_, err = v.sm.DeleteApp(ctx, &sagemaker.DeleteAppInput{DomainId: sdkaws.String(testDomain), SpaceName: sdkaws.String("alice-private"), AppType: smtypes.AppTypeJupyterLab, AppName: sdkaws.String("default")})
	mustOK(t, err)
	inSpace := &sagemaker.ListAppsInput{DomainIdEquals: sdkaws.String(testDomain), SpaceNameEquals: sdkaws.String("alice-private")}
	poll(t, func() bool {
		if v.apps(t, inSpace)[0].Status == smtypes.AppStatusDeleted {
			return true
		}
		wantCode(t, deleteSpace(), "ResourceInUse")
		return false
	})
	mustOK(t, deleteSpace())
	wantCode(t, v.deleteProfile("alice"), "ResourceInUse") // the space is Deleting
	poll(t, func() bool { return len(v.spaces(t)) == 1 })
	_, err = describeSpace()
	wantCode(t, err, "ResourceNotFound")
	mustOK(t, v.deleteProfile("alice"))
	if got := v.settle(t, "alice"); got != "" {
		t.Errorf("profile settled as %s, want gone", got)
	}
	if sp := v.spaces(t); len(sp) != 1 || sdkaws.ToString(sp[0].SpaceName) != "team-shared" {
		t.Errorf("spaces left = %+v", sp)
	}
}

func TestDeleteAppErrors(t *testing.T) {
	v := newEnv(t, Options{})
	v.createProfile(t, "bob", "")
	v.settle(t, "bob")
	_, err := v.emu.AddApp(App{DomainID: testDomain, UserProfileName: "bob", AppName: "broken", Status: StatusFailed})
	mustOK(t, err)
	_, err = v.emu.AddApp(App{DomainID: testDomain, UserProfileName: "bob", AppName: "starting", Status: StatusPending})
	mustOK(t, err)
	del := func(name string, typ smtypes.AppType, profile, space *string) error {
		_, err := v.sm.DeleteApp(ctx, &sagemaker.DeleteAppInput{DomainId: sdkaws.String(testDomain), UserProfileName: profile, SpaceName: space, AppType: typ, AppName: sdkaws.String(name)})
		return err
	}
	bob := sdkaws.String("bob")
	tests := []struct {
		name, app      string
		typ            smtypes.AppType
		profile, space *string
		code           string
	}{
		{"unknown app", "ghost", smtypes.AppTypeJupyterLab, bob, nil, "ResourceNotFound"},
		{"failed app", "broken", smtypes.AppTypeJupyterLab, bob, nil, "ValidationException"},
		{"pending app", "starting", smtypes.AppTypeJupyterLab, bob, nil, "ResourceInUse"},
		{"bad app type", "broken", smtypes.AppType("Notebook"), bob, nil, "ValidationException"},
		{"profile and space", "broken", smtypes.AppTypeJupyterLab, bob, sdkaws.String("s"), "ValidationException"},
		{"neither", "broken", smtypes.AppTypeJupyterLab, nil, nil, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, del(tt.app, tt.typ, tt.profile, tt.space), tt.code) })
	}
	// The Pending app starts on observation; the Failed one never blocks.
	v.apps(t, &sagemaker.ListAppsInput{})
	mustOK(t, del("starting", smtypes.AppTypeJupyterLab, bob, nil))
	v.apps(t, &sagemaker.ListAppsInput{})
	v.apps(t, &sagemaker.ListAppsInput{})
	mustOK(t, v.deleteProfile("bob"))
	_, err = v.sm.DeleteSpace(ctx, &sagemaker.DeleteSpaceInput{DomainId: sdkaws.String(testDomain), SpaceName: sdkaws.String("nope")})
	wantCode(t, err, "ResourceNotFound")
}

func TestListAppsPaging(t *testing.T) {
	v := newEnv(t, Options{})
	for _, u := range []string{"u1", "u2"} {
		v.createProfile(t, u, "")
		for i := range 12 {
			_, err := v.emu.AddApp(App{DomainID: testDomain, UserProfileName: u, AppType: "KernelGateway", AppName: fmt.Sprintf("k%02d", i)})
			mustOK(t, err)
		}
	}
	if a := v.apps(t, &sagemaker.ListAppsInput{}); len(a) != 24 {
		t.Errorf("%d apps, want 24", len(a))
	}
	a := v.apps(t, &sagemaker.ListAppsInput{UserProfileNameEquals: sdkaws.String("u2"), SortOrder: smtypes.SortOrderDescending})
	if len(a) != 12 || sdkaws.ToString(a[0].AppName) != "k11" || sdkaws.ToString(a[0].UserProfileName) != "u2" {
		t.Errorf("u2 apps descending: %d, first %+v", len(a), a[0])
	}
	page, err := v.sm.ListApps(ctx, &sagemaker.ListAppsInput{})
	mustOK(t, err)
	if len(page.Apps) != 10 || page.NextToken == nil {
		t.Errorf("default page: %d apps, next %v", len(page.Apps), page.NextToken)
	}
	if _, err := v.emu.AddApp(App{DomainID: testDomain, UserProfileName: "u1", AppType: "KernelGateway", AppName: "k00"}); err == nil {
		t.Errorf("AddApp accepted a duplicate")
	}
	if _, err := v.emu.AddApp(App{DomainID: testDomain, UserProfileName: "nobody"}); err == nil {
		t.Errorf("AddApp accepted an unknown profile")
	}
}
