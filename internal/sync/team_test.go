package sync

import (
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/sagebridge/sagebridge/internal/awsemu"
)

// A new team's roles are created without a look first (the sync never
// recorded the team), so a fresh install spends no IAM call, at its
// scarcest rate, on learning that nothing is there yet.
func TestIntegrationNewTeamCreatesWithoutReading(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	users := e.addTeamUsers([]string{"a", "b"}, 2)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })
	calls := e.emu.Calls()
	if calls["GetRole"] != 0 || calls["CreateRole"] != 4 {
		t.Errorf("GetRole %d, CreateRole %d; want no read and one create per role of two teams", calls["GetRole"], calls["CreateRole"])
	}
	for _, team := range []string{"a", "b"} {
		if st := e.statusOf(TeamKey(team)); st.State != StateConverged || st.ExecutionRoleARN == "" {
			t.Errorf("team %s: %+v", team, st)
		}
	}
}

// A role of a new team that exists already, made by the sync before its
// record was lost, is met by the create, then read, its ownership
// checked, and brought to the desired state.
func TestIntegrationCreateMeetsAnOwnedRole(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: sdkaws.String("sagebridge-a"), Path: sdkaws.String("/sagebridge/"),
		AssumeRolePolicyDocument: &trust, Tags: []iamtypes.Tag{{Key: sdkaws.String(itOwner), Value: sdkaws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	users := e.addTeamUsers([]string{"a"}, 1)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })
	out := e.emu.Outcomes()
	if n := out[awsemu.Outcome{Op: "CreateRole", Result: "EntityAlreadyExists"}]; n != 1 {
		t.Errorf("creates that met the existing role: %d, want 1", n)
	}
	if n := out[awsemu.Outcome{Op: "UpdateAssumeRolePolicy", Result: "ok"}]; n != 1 {
		t.Errorf("trust policy updates of the existing role: %d, want 1", n)
	}
	role, _ := e.emu.Role("sagebridge-a")
	if role.TrustPolicy == trust {
		t.Errorf("the existing role keeps the foreign trust policy")
	}
}
