package sync

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/awsemu"
	"github.com/sagebridge/sagebridge/internal/store"
)

var fiveTeams = []string{"alpha", "bravo", "charlie", "delta", "echo"}

var tenTeams = append(slices.Clone(fiveTeams), "foxtrot", "golf", "hotel", "india", "juliett")

// allConverged reports whether every user key has converged.
func (e *itEnv) allConverged(users map[string][]string) bool {
	for _, ids := range users {
		for _, id := range ids {
			if e.statusOf(store.UserKey(id)).State != StateConverged {
				return false
			}
		}
	}
	return e.idle()
}

// checkTeam checks both roles of a team: trust policies, tags and exactly
// the configured policies.
func (e *itEnv) checkTeam(team string) {
	e.t.Helper()
	fed, ok1 := e.emu.Role("sagebridge-" + team)
	exec, ok2 := e.emu.Role("sagebridge-" + team + "-execution")
	if !ok1 || !ok2 {
		e.t.Fatalf("team %s: roles missing (federation %v, execution %v)", team, ok1, ok2)
	}
	wantFed := federationTrust(fmt.Sprintf("arn:aws:iam::%s:saml-provider/sagebridge", itAccount), "https://signin.aws.amazon.com/saml", []string{"team", "userId"})
	if !policiesEqual(fed.TrustPolicy, wantFed) {
		e.t.Errorf("team %s federation trust:\n got %s\nwant %s", team, fed.TrustPolicy, wantFed)
	}
	if !policiesEqual(exec.TrustPolicy, executionTrust()) {
		e.t.Errorf("team %s execution trust: %s", team, exec.TrustPolicy)
	}
	for _, r := range []awsemu.RoleState{fed, exec} {
		tags := tagMap(r.Tags)
		if tags[TagTeam] != team || tags[itOwner] != "true" || r.Path != "/sagebridge/" {
			e.t.Errorf("role %s: tags %v path %s", r.Name, tags, r.Path)
		}
	}
	if got := slices.Sorted(maps.Keys(fed.InlinePolicies)); fmt.Sprint(got) != "[federation-abac]" || len(fed.AttachedPolicies) != 0 {
		e.t.Errorf("federation role policies: inline %v attached %v", got, fed.AttachedPolicies)
	}
	if !strings.Contains(fed.InlinePolicies["federation-abac"], "${aws:PrincipalTag/userId}") {
		e.t.Errorf("federation policy not rendered: %s", fed.InlinePolicies["federation-abac"])
	}
	if got := slices.Sorted(maps.Keys(exec.InlinePolicies)); fmt.Sprint(got) != "[execution-team-data]" ||
		fmt.Sprint(exec.AttachedPolicies) != "[arn:aws:iam::aws:policy/AmazonSageMakerFullAccess]" {
		e.t.Errorf("execution role policies: inline %v attached %v", got, exec.AttachedPolicies)
	}
	if !strings.Contains(exec.InlinePolicies["execution-team-data"], "teams/"+team+"/") {
		e.t.Errorf("execution policy not rendered for the team: %s", exec.InlinePolicies["execution-team-data"])
	}
}

// 1,000 users in 10 teams converge; a resync with nothing changed then
// makes no write call and a number of reads bounded by pages; a metadata
// change updates the SAML provider and nothing else.
func TestIntegrationConvergeAndQuietResync(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	users := e.addTeamUsers(tenTeams, 100)
	e.waitFor("1,000 users to converge", 60*time.Second, func() bool { return e.allConverged(users) })

	snap := e.emu.Snapshot()
	if len(snap.Profiles) != 1000 || len(snap.Roles) != 20 || len(snap.SAMLProviders) != 1 {
		t.Fatalf("profiles %d roles %d SAML providers %d; want 1000, 20, 1", len(snap.Profiles), len(snap.Roles), len(snap.SAMLProviders))
	}
	for team, ids := range users {
		e.checkTeam(team)
		for i := range ids {
			uid := fmt.Sprintf("%s-%d", team, i)
			e.checkProfile(uid, uid, team)
		}
	}
	sp := snap.SAMLProviders[0]
	if sp.Name != "sagebridge" || sp.Metadata != string(samlMetadata("v1")) || tagMap(sp.Tags)[itOwner] != "true" {
		t.Errorf("SAML provider %+v", sp)
	}

	e.emu.ResetCounters()
	before := e.s.LastResync()
	if err := e.s.Resync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !e.s.LastResync().After(before) {
		t.Errorf("LastResync %v did not move past %v", e.s.LastResync(), before)
	}
	e.waitIdle(10 * time.Second)
	if n := e.emu.WriteCalls(); n != 0 {
		t.Errorf("a resync with nothing changed made %d write calls: %v", n, e.emu.Calls())
	}
	calls := e.emu.Calls()
	// 1,000 profiles are ten ListUserProfiles pages of 100; 20 roles one
	// ListRoles page. Nothing is described per user.
	if calls["ListUserProfiles"] > 11 || calls["ListRoles"] > 1 || len(calls) > 2 {
		t.Errorf("resync reads: %v; want only the listings, bounded by pages", calls)
	}

	e.emu.ResetCounters()
	e.setMetadata(samlMetadata("v2"))
	if err := e.s.o.Store.Enqueue(e.ctx, SAMLKey); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the new metadata", 10*time.Second, func() bool {
		p := e.emu.Snapshot().SAMLProviders[0]
		return p.Metadata == string(samlMetadata("v2")) && e.idle()
	})
	if calls := e.emu.Calls(); calls["UpdateSAMLProvider"] != 1 || e.emu.WriteCalls() != 1 {
		t.Errorf("metadata change made %v", calls)
	}
}

// A team move, a rename, a deactivation and a reactivation.
func TestIntegrationMoveRenameDeactivateReactivate(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	users := e.addTeamUsers([]string{"a", "b"}, 3)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })

	mover, renamed, leaver := users["a"][0], users["a"][1], users["b"][2]
	e.moveUser(mover, "a", "b")
	e.waitFor("the move", 10*time.Second, func() bool {
		p, _ := e.emu.Profile(itDomain, "a-0")
		return tagMap(p.Tags)[TagTeam] == "b" && strings.HasSuffix(p.ExecutionRole, "/sagebridge-b-execution") &&
			e.statusOf(store.UserKey(mover)).State == StateConverged && e.idle()
	})
	e.checkProfile("a-0", "a-0", "b")

	// A new userName gives a new userId: the tag follows, the profile
	// name (bound at creation) does not.
	_, err := e.st.UpdateUser(e.ctx, renamed, func(u store.User) (store.User, error) {
		u.UserName = "anna@example.com"
		u.Data = []byte(`{"userName":"anna@example.com","active":true}`)
		return u, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the rename", 10*time.Second, func() bool {
		p, _ := e.emu.Profile(itDomain, "a-1")
		return tagMap(p.Tags)[TagUserID] == "anna" && e.idle()
	})
	if _, ok := e.emu.Profile(itDomain, "anna"); ok {
		t.Error("a rename must not create a profile under the new name")
	}
	if st := e.statusOf(store.UserKey(renamed)); st.Profile != "a-1" || st.UserID != "anna" {
		t.Errorf("renamed user status %+v", st)
	}

	e.setActive(leaver, false)
	e.waitFor("suspension", 10*time.Second, func() bool {
		p, _ := e.emu.Profile(itDomain, "b-2")
		_, has := tagMap(p.Tags)[TagUserID]
		return !has && e.statusOf(store.UserKey(leaver)).State == StateSuspended
	})
	if p, _ := e.emu.Profile(itDomain, "b-2"); tagMap(p.Tags)[itOwner] != "true" || tagMap(p.Tags)[TagTeam] != "b" {
		t.Errorf("a suspended profile keeps its other tags: %v", p.Tags)
	}
	e.setActive(leaver, true)
	e.waitFor("reactivation", 10*time.Second, func() bool {
		return e.statusOf(store.UserKey(leaver)).State == StateConverged && e.idle()
	})
	e.checkProfile("b-2", "b-2", "b")
	if st := e.statusOf(store.UserKey(leaver)); !st.InactiveSince.IsZero() {
		t.Errorf("reactivation must clear the grace period: %+v", st)
	}
}

// After the grace period a deprovisioned profile is deleted, its apps and
// its spaces (with their apps) first; a deleted user's status goes too.
func TestIntegrationDeleteAfterGrace(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{grace: "1h"})
	users := e.addTeamUsers([]string{"a"}, 2)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })

	if _, err := e.emu.AddSpace(awsemu.Space{DomainID: itDomain, SpaceName: "a-0-space", OwnerUserProfileName: "a-0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.emu.AddApp(awsemu.App{DomainID: itDomain, SpaceName: "a-0-space", AppName: "lab"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.emu.AddApp(awsemu.App{DomainID: itDomain, UserProfileName: "a-0", AppType: "JupyterServer"}); err != nil {
		t.Fatal(err)
	}
	deactivated, deleted := users["a"][0], users["a"][1]
	e.setActive(deactivated, false)
	if err := e.st.DeleteUser(e.ctx, deleted, 0); err != nil {
		t.Fatal(err)
	}
	e.waitFor("suspension", 10*time.Second, func() bool {
		return e.statusOf(store.UserKey(deactivated)).State == StateSuspended &&
			e.statusOf(store.UserKey(deleted)).State == StateSuspended
	})
	if len(e.emu.Snapshot().Profiles) != 2 {
		t.Fatal("nothing may be deleted within the grace period")
	}

	e.clock.Advance(61 * time.Minute)
	// The keys wait in the queue until the grace period ends; the test's
	// clock jump is not a queue event, so nudge them.
	if err := e.st.Enqueue(e.ctx, store.UserKey(deactivated), store.UserKey(deleted)); err != nil {
		t.Fatal(err)
	}
	e.waitFor("deletion", 20*time.Second, func() bool {
		_, ok, _ := e.status.GetStatus(e.ctx, store.UserKey(deleted))
		return len(e.emu.Snapshot().Profiles) == 0 && !ok && e.statusOf(store.UserKey(deactivated)).State == StateDeleted
	})
	snap := e.emu.Snapshot()
	if len(snap.Spaces) != 0 {
		t.Errorf("spaces left: %+v", snap.Spaces)
	}
	for _, a := range snap.Apps {
		if a.Status != "Deleted" {
			t.Errorf("app left: %+v", a)
		}
	}
	// The inactive user keeps its name: reactivation recreates it.
	e.setActive(deactivated, true)
	e.waitFor("recreation", 10*time.Second, func() bool {
		return e.statusOf(store.UserKey(deactivated)).State == StateConverged && e.idle()
	})
	e.checkProfile("a-0", "a-0", "a")
}

// Profiles deleted together share their listings of the domain's spaces
// (ListSpaces has no owner filter): an offboarding costs listings per
// round of passes, not per user and pass.
func TestIntegrationDeletionsShareSpaceListings(t *testing.T) {
	t.Parallel()
	const n = 20
	e := newITEnv(t, itConfig{grace: "1h"})
	users := e.addTeamUsers([]string{"a"}, n)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })
	for i, id := range users["a"] {
		profile := fmt.Sprintf("a-%d", i)
		if _, err := e.emu.AddSpace(awsemu.Space{DomainID: itDomain, SpaceName: profile + "-space", OwnerUserProfileName: profile}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.emu.AddApp(awsemu.App{DomainID: itDomain, SpaceName: profile + "-space", AppName: "lab"}); err != nil {
			t.Fatal(err)
		}
		e.setActive(id, false)
	}
	e.waitFor("suspension", 10*time.Second, func() bool {
		for _, id := range users["a"] {
			if e.statusOf(store.UserKey(id)).State != StateSuspended {
				return false
			}
		}
		return true
	})
	e.clock.Advance(61 * time.Minute)
	keys := make([]string, 0, n)
	for _, id := range users["a"] {
		keys = append(keys, store.UserKey(id))
	}
	if err := e.st.Enqueue(e.ctx, keys...); err != nil {
		t.Fatal(err)
	}
	e.waitFor("deletion", 30*time.Second, func() bool {
		snap := e.emu.Snapshot()
		return len(snap.Profiles) == 0 && len(snap.Spaces) == 0
	})
	// Each profile takes three passes (its space's app, the space, the
	// profile); listing for each would be some 3n listings.
	if got := e.emu.Calls()["ListSpaces"]; got > n/2 {
		t.Errorf("%d listings of the spaces for %d deletions, want them shared (at most %d)", got, n, n/2)
	}
}

// A space a deprovisioned user's listing still shows, deleted since and
// its name taken by another user's new space, is read again before
// anything is deleted in it, and left alone with its app.
func TestIntegrationDeletionLeavesASpaceThatChangedOwner(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	users := e.addTeamUsers([]string{"a"}, 2)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })
	if _, err := e.emu.AddSpace(awsemu.Space{DomainID: itDomain, SpaceName: "lab", OwnerUserProfileName: "a-0"}); err != nil {
		t.Fatal(err)
	}
	// The listing the deletion will be answered from: "lab" is a-0's.
	if spaces, err := e.s.spaces.owned(e.ctx, "a-0"); err != nil || len(spaces) != 1 {
		t.Fatalf("a-0 owns %+v (%v)", spaces, err)
	}
	lab := &sagemaker.DescribeSpaceInput{DomainId: sdkaws.String(itDomain), SpaceName: sdkaws.String("lab")}
	if _, err := e.sm.DeleteSpace(e.ctx, &sagemaker.DeleteSpaceInput{DomainId: lab.DomainId, SpaceName: lab.SpaceName}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the space to go", 10*time.Second, func() bool {
		_, err := e.sm.DescribeSpace(e.ctx, lab)
		return bridgeaws.Classify(err) == bridgeaws.NotFound // each look advances the deletion
	})
	if _, err := e.emu.AddSpace(awsemu.Space{DomainID: itDomain, SpaceName: "lab", OwnerUserProfileName: "a-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.emu.AddApp(awsemu.App{DomainID: itDomain, SpaceName: "lab", AppName: "notebook"}); err != nil {
		t.Fatal(err)
	}

	// The passes of a-0's deletion, as the controller would make them.
	gone := false
	for pass := 0; !gone && pass < 50; pass++ {
		var err error
		if gone, err = e.s.removeProfile(e.ctx, "a-0"); err != nil {
			t.Fatal(err)
		}
	}
	if !gone {
		t.Fatal("a-0's profile is not deleted after 50 passes")
	}
	d, err := e.sm.DescribeSpace(e.ctx, lab)
	if err != nil || sdkaws.ToString(d.OwnershipSettings.OwnerUserProfileName) != "a-1" || d.Status != smtypes.SpaceStatusInService {
		t.Errorf("a-1's space: %+v (%v)", d, err)
	}
	for _, a := range e.emu.Snapshot().Apps {
		if a.SpaceName == "lab" && a.Status != awsemu.StatusInService {
			t.Errorf("a-1's app: %+v", a)
		}
	}
}

// With 20% of calls throttled and 5% failing with a 5xx (plus 2% that take
// effect but answer 5xx, so retries meet their own result), everything
// converges: no user is left failed and nothing exists twice.
func TestIntegrationConvergesUnderFaults(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{faults: awsemu.Faults{ThrottleFraction: 0.2, ServerErrorFraction: 0.05, AppliedErrorFraction: 0.02, Seed: 7}})
	users := e.addTeamUsers(tenTeams, 100)
	e.waitFor("1,000 users to converge under faults", 90*time.Second, func() bool { return e.allConverged(users) })

	snap := e.emu.Snapshot()
	if len(snap.Profiles) != 1000 || len(snap.Roles) != 20 || len(snap.SAMLProviders) != 1 {
		t.Fatalf("profiles %d roles %d SAML providers %d; want 1000, 20, 1", len(snap.Profiles), len(snap.Roles), len(snap.SAMLProviders))
	}
	for team, ids := range users {
		e.checkTeam(team)
		for i := range ids {
			uid := fmt.Sprintf("%s-%d", team, i)
			e.checkProfile(uid, uid, team)
		}
	}
	injected := 0
	for o, n := range e.emu.Outcomes() {
		if strings.HasPrefix(o.Result, "injected") {
			injected += n
		}
	}
	throttled := testutil.ToFloat64(e.s.o.Metrics.Reconciles.WithLabelValues("user", "throttled")) +
		testutil.ToFloat64(e.s.o.Metrics.Reconciles.WithLabelValues("team", "throttled"))
	t.Logf("faults injected: %d; reconciles that ended throttled (then retried): %v", injected, throttled)
	if injected == 0 {
		t.Error("no fault was injected")
	}
	if n := testutil.ToFloat64(e.s.o.Metrics.Reconciles.WithLabelValues("user", "terminal")); n != 0 {
		t.Errorf("%v user reconciles failed terminally", n)
	}
}

// A role and a profile that collide with desired names but lack the
// ownership tag are left untouched and reported.
func TestIntegrationLeavesUnownedResources(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	foreignTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: sdkaws.String("sagebridge-c"), Path: sdkaws.String("/sagebridge/"),
		AssumeRolePolicyDocument: &foreignTrust, Tags: []iamtypes.Tag{{Key: sdkaws.String("owner"), Value: sdkaws.String("platform-team")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.CreateUserProfile(e.ctx, &sagemaker.CreateUserProfileInput{DomainId: sdkaws.String(itDomain), UserProfileName: sdkaws.String("a-0"),
		Tags: []smtypes.Tag{{Key: sdkaws.String("owner"), Value: sdkaws.String("someone")}}}); err != nil {
		t.Fatal(err)
	}
	roleBefore, _ := e.emu.Role("sagebridge-c")
	profileBefore, _ := e.emu.Profile(itDomain, "a-0")

	users := e.addTeamUsers([]string{"a", "c"}, 2)
	e.waitFor("the conflicts to be reported", 20*time.Second, func() bool {
		return e.statusOf(store.UserKey(users["a"][0])).State == StateConflict &&
			e.statusOf(TeamKey("c")).State == StateConflict &&
			e.statusOf(store.UserKey(users["a"][1])).State == StateConverged &&
			e.statusOf(store.UserKey(users["c"][0])).State == StateFailed && e.idle()
	})
	roleAfter, _ := e.emu.Role("sagebridge-c")
	if roleAfter.TrustPolicy != roleBefore.TrustPolicy || fmt.Sprint(roleAfter.Tags) != fmt.Sprint(roleBefore.Tags) ||
		len(roleAfter.InlinePolicies) != 0 || len(roleAfter.AttachedPolicies) != 0 {
		t.Errorf("the unowned role was changed:\nbefore %+v\nafter  %+v", roleBefore, roleAfter)
	}
	profileAfter, _ := e.emu.Profile(itDomain, "a-0")
	if fmt.Sprint(profileAfter.Tags) != fmt.Sprint(profileBefore.Tags) || profileAfter.ExecutionRole != profileBefore.ExecutionRole {
		t.Errorf("the unowned profile was changed:\nbefore %+v\nafter  %+v", profileBefore, profileAfter)
	}
	for _, kind := range []string{"role", "profile"} {
		if testutil.ToFloat64(e.s.o.Metrics.Conflicts.WithLabelValues(kind)) < 1 {
			t.Errorf("no %s conflict counted", kind)
		}
	}
	if st := e.statusOf(store.UserKey(users["a"][0])); !strings.Contains(st.LastError, "ownership tag") {
		t.Errorf("conflict status %+v", st)
	}
	if st := e.statusOf(store.UserKey(users["c"][0])); !strings.Contains(st.LastError, "team c") {
		t.Errorf("a user of a team in conflict says why: %+v", st)
	}
}

// When one window would delete more profiles than the threshold allows,
// the excess waits for approval.
func TestIntegrationDeletionThreshold(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{grace: "0s", deletionCount: 1})
	users := e.addTeamUsers([]string{"a"}, 3)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })
	for _, id := range users["a"] {
		e.setActive(id, false)
	}
	count := func(state string) int {
		n := 0
		for _, id := range users["a"] {
			if e.statusOf(store.UserKey(id)).State == state {
				n++
			}
		}
		return n
	}
	e.waitFor("one deletion and two held", 20*time.Second, func() bool {
		return count(StateDeleted) == 1 && count(StateHeld) == 2 && e.idle()
	})
	if n := len(e.emu.Snapshot().Profiles); n != 2 {
		t.Errorf("profiles left %d, want 2", n)
	}
	if held := testutil.ToFloat64(e.s.o.Metrics.DeletionsHeld); held != 2 {
		t.Errorf("deletions_held = %v", held)
	}
	// Approved by another process (the CLI's, with the daemon running):
	// the approval is in the records, and this syncer acts on it.
	cli, err := New(e.s.o)
	if err != nil {
		t.Fatal(err)
	}
	approved, err := cli.Approve(e.ctx)
	if err != nil || len(approved) != 2 {
		t.Fatalf("Approve = %v, %v", approved, err)
	}
	e.waitFor("the approved deletions", 20*time.Second, func() bool { return count(StateDeleted) == 3 && e.idle() })
	if n := len(e.emu.Snapshot().Profiles); n != 0 || testutil.ToFloat64(e.s.o.Metrics.DeletionsHeld) != 0 {
		t.Errorf("after approval: %d profiles, %v held", n, testutil.ToFloat64(e.s.o.Metrics.DeletionsHeld))
	}
}

// A team whose group is deleted loses its roles; its users are suspended.
func TestIntegrationTeamRemoved(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	users := e.addTeamUsers([]string{"a", "b"}, 2)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })
	if err := e.st.DeleteGroup(e.ctx, "g-b", 0); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the team's removal", 20*time.Second, func() bool {
		_, fed := e.emu.Role("sagebridge-b")
		_, exec := e.emu.Role("sagebridge-b-execution")
		_, known, _ := e.status.GetStatus(e.ctx, TeamKey("b"))
		return !fed && !exec && !known && e.statusOf(store.UserKey(users["b"][0])).State == StateSuspended && e.idle()
	})
	e.checkTeam("a")
	if _, ok := e.emu.Role("sagebridge-a"); !ok {
		t.Error("the other team's roles must stay")
	}
}
