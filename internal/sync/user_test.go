package sync

import (
	"fmt"
	"maps"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/awsemu"
	"github.com/sagebridge/sagebridge/internal/store"
)

// sageMakerCalls are the emulator's SageMaker calls by operation.
func (e *itEnv) sageMakerCalls() map[string]int {
	out := map[string]int{}
	for op, n := range e.emu.Calls() {
		switch op {
		case "CreateUserProfile", "DescribeUserProfile", "UpdateUserProfile", "DeleteUserProfile", "ListUserProfiles",
			"AddTags", "ListTags", "DeleteTags", "ListApps", "DeleteApp", "ListSpaces", "DeleteSpace":
			out[op] = n
		}
	}
	return out
}

// A new user's profile is created without a look first (no profile was
// ever made for the user), and then only described until it is in
// service: its tags are the create's own, so no ListTags.
func TestIntegrationNewUserSageMakerCalls(t *testing.T) {
	t.Parallel()
	const perTeam = 50
	for _, tt := range []struct {
		name  string
		async awsemu.Transition
		want  map[string]int
	}{
		{"in service at the first look", awsemu.Transition{Observations: -1},
			map[string]int{"CreateUserProfile": 2 * perTeam, "DescribeUserProfile": 2 * perTeam}},
		{"pending at the first look", awsemu.Transition{Observations: 1},
			map[string]int{"CreateUserProfile": 2 * perTeam, "DescribeUserProfile": 4 * perTeam}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newITEnv(t, itConfig{async: tt.async, roleVisibility: awsemu.Transition{Observations: -1}})
			users := e.addTeamUsers([]string{"a", "b"}, perTeam)
			e.waitFor("convergence", 30*time.Second, func() bool { return e.allConverged(users) })
			for team, ids := range users {
				for i := range ids {
					e.checkProfile(fmt.Sprintf("%s-%d", team, i), fmt.Sprintf("%s-%d", team, i), team)
				}
			}
			if got := e.sageMakerCalls(); !maps.Equal(got, tt.want) {
				t.Errorf("SageMaker calls %v, want %v", got, tt.want)
			}
		})
	}
}

// A profile that exists although the sync never made one for the user
// (its record was lost) is met by the create, then read, its ownership
// checked, and brought to the desired state, never created twice.
func TestIntegrationCreateMeetsAnOwnedProfile(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	if _, err := e.sm.CreateUserProfile(e.ctx, &sagemaker.CreateUserProfileInput{DomainId: sdkaws.String(itDomain), UserProfileName: sdkaws.String("a-0"),
		Tags: []smtypes.Tag{{Key: sdkaws.String(itOwner), Value: sdkaws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	users := e.addTeamUsers([]string{"a"}, 2)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })
	e.checkProfile("a-0", "a-0", "a")
	e.checkProfile("a-1", "a-1", "a")
	out := e.emu.Outcomes()
	if n := out[awsemu.Outcome{Op: "CreateUserProfile", Result: "ResourceInUse"}]; n != 1 {
		t.Errorf("creates that met the existing profile: %d, want 1", n)
	}
	if n := out[awsemu.Outcome{Op: "UpdateUserProfile", Result: "ok"}]; n != 1 {
		t.Errorf("updates of the existing profile: %d, want 1", n)
	}
}

// SageMaker refusing a team's execution role long after the role was
// written (here: every refusal is past the propagation window, as for
// users that waited behind a long queue) is retried with backoff until
// the role is usable: no user fails for good.
func TestIntegrationRoleRefusedPastTheWindowIsRetried(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{roleVisibility: awsemu.Transition{Observations: 5}, propagationWindow: time.Nanosecond})
	users := e.addTeamUsers([]string{"a", "b"}, 10)
	e.waitFor("convergence", 30*time.Second, func() bool { return e.allConverged(users) })
	for team, ids := range users {
		for i := range ids {
			e.checkProfile(fmt.Sprintf("%s-%d", team, i), fmt.Sprintf("%s-%d", team, i), team)
		}
		for _, id := range ids {
			if st := e.statusOf(store.UserKey(id)); st.LastError != "" {
				t.Errorf("user %s converged with an error left: %+v", id, st)
			}
		}
	}
	if n := e.emu.Outcomes()[awsemu.Outcome{Op: "CreateUserProfile", Result: "ValidationException"}]; n == 0 {
		t.Error("SageMaker never refused a role: the test proves nothing")
	}
	m := e.s.o.Metrics.Reconciles
	if n := testutil.ToFloat64(m.WithLabelValues("user", "terminal")); n != 0 {
		t.Errorf("%v user reconciles failed terminally", n)
	}
	if n := testutil.ToFloat64(m.WithLabelValues("user", "error")); n == 0 {
		t.Error("the refusals were not retried with backoff")
	}
}
