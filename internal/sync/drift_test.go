package sync

import (
	"context"
	"errors"
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
	"github.com/sagebridge/sagebridge/internal/store"
)

// Changes made by hand in AWS are put back: a deleted profile is found by
// the resync's listing, edited tags and an edited trust policy by the
// verification sweep.
func TestIntegrationDriftIsRepaired(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{})
	users := e.addTeamUsers([]string{"a"}, 3)
	e.waitFor("convergence", 20*time.Second, func() bool { return e.allConverged(users) })

	// Delete a-0 by hand and wait until SageMaker has let it go.
	if _, err := e.sm.DeleteUserProfile(e.ctx, &sagemaker.DeleteUserProfileInput{DomainId: sdkaws.String(itDomain), UserProfileName: sdkaws.String("a-0")}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the hand deletion", 5*time.Second, func() bool {
		_, err := e.sm.DescribeUserProfile(e.ctx, &sagemaker.DescribeUserProfileInput{DomainId: sdkaws.String(itDomain), UserProfileName: sdkaws.String("a-0")})
		return bridgeaws.Classify(err) == bridgeaws.NotFound
	})
	// Retag a-1 and loosen the federation trust by hand.
	p1, _ := e.emu.Profile(itDomain, "a-1")
	if _, err := e.sm.AddTags(e.ctx, &sagemaker.AddTagsInput{ResourceArn: &p1.Arn, Tags: []smtypes.Tag{{Key: sdkaws.String(TagTeam), Value: sdkaws.String("admins")}}}); err != nil {
		t.Fatal(err)
	}
	loose := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	if _, err := e.iam.UpdateAssumeRolePolicy(e.ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: sdkaws.String("sagebridge-a"), PolicyDocument: &loose}); err != nil {
		t.Fatal(err)
	}

	// A resync without verification repairs the missing profile only.
	if err := e.s.Resync(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the deleted profile to come back", 10*time.Second, func() bool {
		_, ok := e.emu.Profile(itDomain, "a-0")
		return ok && e.statusOf(store.UserKey(users["a"][0])).State == StateConverged && e.idle()
	})
	e.checkProfile("a-0", "a-0", "a")
	if p, _ := e.emu.Profile(itDomain, "a-1"); tagMap(p.Tags)[TagTeam] != "admins" {
		t.Fatal("an unverified key must not have been read (the test relies on it)")
	}

	// The sweep verifies every key in turn.
	sw := &sweeper{s: e.s}
	for range 20 {
		sw.next(e.ctx)
	}
	e.waitFor("the sweep's repairs", 10*time.Second, func() bool {
		p, _ := e.emu.Profile(itDomain, "a-1")
		r, _ := e.emu.Role("sagebridge-a")
		return tagMap(p.Tags)[TagTeam] == "a" && !strings.Contains(r.TrustPolicy, `"AWS"`) && e.idle()
	})
	e.checkTeam("a")
	for _, kind := range []string{"profile", "role"} {
		if testutil.ToFloat64(e.s.o.Metrics.Drift.WithLabelValues(kind)) < 1 {
			t.Errorf("drift of %s not counted", kind)
		}
	}
	if problems, err := testutil.GatherAndLint(e.reg); err != nil || len(problems) > 0 {
		t.Errorf("metrics lint: %v %v", problems, err)
	}
	if n, err := testutil.GatherAndCount(e.reg, "sagebridge_sync_aws_calls_total"); err != nil || n == 0 {
		t.Errorf("aws_calls_total series: %d, %v", n, err)
	}
}

// Two users that map to one userId: the first keeps it, the second is
// refused and reported, never merged; it is tried again once the first
// lets go of the name.
func TestIntegrationIdentityCollision(t *testing.T) {
	t.Parallel()
	e := newITEnv(t, itConfig{grace: "0s"})
	e.createUser("u1", "sam@example.com")
	if _, err := e.st.CreateGroup(e.ctx, store.Group{ID: "g-a", DisplayName: "team-a", Data: []byte(`{}`)}, []string{"u1"}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the first user", 10*time.Second, func() bool { return e.statusOf(store.UserKey("u1")).State == StateConverged })
	e.createUser("u2", "sam@example.org")
	if _, err := e.st.UpdateGroup(e.ctx, "g-a", func(store.Group) (store.GroupChange, error) {
		return store.GroupChange{Add: []string{"u2"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the refusal", 10*time.Second, func() bool { return e.statusOf(store.UserKey("u2")).State == StateConflict && e.idle() })
	if st := e.statusOf(store.UserKey("u2")); !strings.Contains(st.LastError, "already held by user u1") {
		t.Errorf("refusal status %+v", st)
	}
	if n := len(e.emu.Snapshot().Profiles); n != 1 {
		t.Errorf("profiles %d, want 1", n)
	}
	// A counter of detections: u2 may be reconciled twice (created, then
	// added to the group) and each refusal counts.
	if testutil.ToFloat64(e.s.o.Metrics.Conflicts.WithLabelValues("identity")) < 1 {
		t.Error("identity collision not counted")
	}
	// u1 leaves; once its profile is deleted, u2 gets the name.
	if err := e.st.DeleteUser(e.ctx, "u1", 0); err != nil {
		t.Fatal(err)
	}
	e.waitFor("u2 to take over the name", 20*time.Second, func() bool {
		return e.statusOf(store.UserKey("u2")).State == StateConverged && e.idle()
	})
	if st := e.statusOf(store.UserKey("u2")); st.Profile != "sam" {
		t.Errorf("u2 status %+v", st)
	}
}

// fakeIAM is a hand-written fake of the calls the SAML reconciler makes;
// it answers with the SDK's typed errors. Calls it does not implement
// panic through the nil embedded interface, which the controller would
// count; these tests call the reconciler directly.
type fakeIAM struct {
	bridgeaws.IAM
	provider *iam.GetSAMLProviderOutput // nil: none
	created  int
	createFn func() error
}

func (f *fakeIAM) GetSAMLProvider(context.Context, *iam.GetSAMLProviderInput, ...func(*iam.Options)) (*iam.GetSAMLProviderOutput, error) {
	if f.provider == nil {
		return nil, &iamtypes.NoSuchEntityException{Message: sdkaws.String("no such provider")}
	}
	return f.provider, nil
}

func (f *fakeIAM) CreateSAMLProvider(context.Context, *iam.CreateSAMLProviderInput, ...func(*iam.Options)) (*iam.CreateSAMLProviderOutput, error) {
	f.created++
	return nil, f.createFn()
}

// A create that meets EntityAlreadyExists (someone else, or our own lost
// response) is not an error: the key is read again, and the ownership
// check decides. Here the provider turns out not to be ours.
func TestSAMLAlreadyExistsSettlesThroughOwnershipCheck(t *testing.T) {
	ctx := context.Background()
	f := &fakeIAM{}
	f.createFn = func() error {
		f.provider = &iam.GetSAMLProviderOutput{SAMLMetadataDocument: sdkaws.String("<other/>")}
		return &iamtypes.EntityAlreadyExistsException{Message: sdkaws.String("exists")}
	}
	s := newFakeSyncer(t, f)
	res, err := s.Reconcile(ctx, SAMLKey)
	if err != nil || res.RequeueAfter == 0 || f.created != 1 {
		t.Fatalf("first pass: %+v, %v, creates %d; want a requeue", res, err, f.created)
	}
	_, err = s.Reconcile(ctx, SAMLKey)
	if !IsTerminal(err) || !errors.Is(err, ErrConflict) || f.created != 1 {
		t.Fatalf("second pass: %v, creates %d; want a terminal conflict and no second create", err, f.created)
	}
	// Ours after all (the earlier create landed): converged, nothing written.
	f.provider = &iam.GetSAMLProviderOutput{SAMLMetadataDocument: sdkaws.String(string(samlMetadata("v1"))),
		Tags: []iamtypes.Tag{{Key: sdkaws.String(itOwner), Value: sdkaws.String("true")}}}
	if res, err := s.Reconcile(ctx, SAMLKey); err != nil || res.RequeueAfter != 0 {
		t.Fatalf("owned provider: %+v, %v", res, err)
	}
	if st, _, _ := s.o.Status.GetStatus(ctx, SAMLKey); st.State != StateConverged {
		t.Errorf("status %+v", st)
	}
}
