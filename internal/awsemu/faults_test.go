package awsemu

import (
	"fmt"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
)

var (
	isThrottle  = retry.IsErrorThrottles(retry.DefaultThrottles)
	isRetryable = retry.IsErrorRetryables(retry.DefaultRetryables)
)

// Injected throttles carry the real codes with HTTP 400, which the SDK's
// retryer classifies as throttling (reference rule 28); quota errors are
// neither throttles nor retryable.
func TestInjectedThrottlesAreThrottles(t *testing.T) {
	v := newEnv(t, Options{Faults: Faults{ThrottleFraction: 1}})
	_, iamErr := v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("r")})
	_, smErr := v.sm.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: sdkaws.String(testDomain)})
	for _, c := range []struct {
		name string
		err  error
		code string
	}{{"IAM", iamErr, "Throttling"}, {"SageMaker", smErr, "ThrottlingException"}} {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, c.err, c.code)
			if st := httpStatus(c.err); st != 400 {
				t.Errorf("HTTP %d, want 400", st)
			}
			if isThrottle.IsErrorThrottle(c.err) != sdkaws.TrueTernary {
				t.Errorf("retry.IsErrorThrottles does not see a throttle in %v", c.err)
			}
			if isRetryable.IsErrorRetryable(c.err) != sdkaws.TrueTernary {
				t.Errorf("not retryable: %v", c.err)
			}
		})
	}
	if got := v.emu.Outcomes()[Outcome{"GetRole", "injected:Throttling"}]; got != 1 {
		t.Errorf("outcome counter = %d", got)
	}

	v.emu.SetFaults(Faults{})
	_, err := v.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: sdkaws.String("r"), AssumeRolePolicyDocument: sdkaws.String(sageMakerTrust)})
	mustOK(t, err)
	_, err = v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("r"), Tags: tagsN(51)})
	wantCode(t, err, "ValidationError")
	mustOK(t, func() error {
		_, err := v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("r"), Tags: tagsN(50)})
		return err
	}())
	_, err = v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("r"), Tags: tagsN(51)[50:]})
	wantCode(t, err, "LimitExceeded")
	if isThrottle.IsErrorThrottle(err) == sdkaws.TrueTernary || isRetryable.IsErrorRetryable(err) == sdkaws.TrueTernary {
		t.Errorf("LimitExceeded classified as throttle or retryable")
	}
}

func TestInjectedServerErrors(t *testing.T) {
	v := newEnv(t, Options{Faults: Faults{ServerErrorFraction: 1, Seed: 7}})
	codes := map[string]bool{}
	for range 20 {
		_, err := v.iam.ListRoles(ctx, &iam.ListRolesInput{})
		codes[code(err)] = true
		if st := httpStatus(err); st != 500 && st != 503 {
			t.Fatalf("HTTP %d", st)
		}
		if isRetryable.IsErrorRetryable(err) != sdkaws.TrueTernary {
			t.Fatalf("5xx not retryable: %v", err)
		}
		_, err = v.sm.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{})
		codes[code(err)] = true
	}
	for _, want := range []string{"ServiceFailure", "ServiceUnavailable", "InternalFailure"} {
		if !codes[want] {
			t.Errorf("never saw %s; saw %v", want, codes)
		}
	}
}

// An applied error: the call took effect, the client saw a 5xx, and the
// SDK's retry meets the call's own result.
func TestAppliedErrorThenRetry(t *testing.T) {
	v := newEnv(t, Options{Faults: Faults{AppliedErrorFraction: 1}})
	in := &iam.CreateRoleInput{RoleName: sdkaws.String("r"), AssumeRolePolicyDocument: sdkaws.String(sageMakerTrust)}
	_, err := v.iam.CreateRole(ctx, in)
	if st := httpStatus(err); st < 500 {
		t.Fatalf("want a 5xx, got %v", err)
	}
	if _, ok := v.emu.Role("r"); !ok {
		t.Fatal("the applied call did not take effect")
	}
	v.emu.SetFaults(Faults{})
	_, err = v.iam.CreateRole(ctx, in)
	wantCode(t, err, "EntityAlreadyExists")
}

// The SDK's standard retryer (zero backoff here, so no waiting) retries
// throttles: three attempts reach the emulator.
func TestRetryerRetriesInjectedThrottles(t *testing.T) {
	v := newEnv(t, Options{Faults: Faults{ThrottleFraction: 1}})
	retryer := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
	c := sagemaker.New(v.sm.Options(), func(o *sagemaker.Options) { o.Retryer = retryer })
	_, err := c.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: sdkaws.String(testDomain)})
	wantCode(t, err, "ThrottlingException")
	if n := v.emu.Calls()["DescribeDomain"]; n != 3 {
		t.Errorf("%d attempts reached the emulator, want 3", n)
	}
	v.emu.SetFaults(Faults{ThrottleFraction: 0.5, Seed: 3})
	for range 10 {
		_, err := c.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: sdkaws.String(testDomain)})
		if err != nil && code(err) != "ThrottlingException" {
			t.Fatal(err)
		}
	}
}

// The same seed and the same sequence of calls give the same faults.
func TestFaultsAreReproducible(t *testing.T) {
	v := newEnv(t, Options{})
	run := func(seed uint64) string {
		v.emu.SetFaults(Faults{ThrottleFraction: 0.3, ServerErrorFraction: 0.2, Seed: seed})
		var out []string
		for range 40 {
			_, err := v.sm.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: sdkaws.String(testDomain)})
			out = append(out, code(err))
		}
		return fmt.Sprint(out)
	}
	a, b, c := run(42), run(42), run(43)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same faults")
	}
	counts := v.emu.Outcomes()
	if counts[Outcome{"DescribeDomain", "ok"}] == 0 || counts[Outcome{"DescribeDomain", "injected:ThrottlingException"}] == 0 {
		t.Errorf("outcomes = %v", counts)
	}
}

func TestLatency(t *testing.T) {
	v := newEnv(t, Options{Faults: Faults{Latency: 40 * time.Millisecond}})
	start := time.Now()
	_, err := v.iam.ListRoles(ctx, &iam.ListRolesInput{})
	mustOK(t, err)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("call took %v, want at least the injected 40ms", d)
	}
}

// Faults can change while calls are in flight (run with -race).
func TestSetFaultsConcurrently(t *testing.T) {
	v := newEnv(t, Options{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 25 {
				_, _ = v.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: sdkaws.String(fmt.Sprintf("r-%d-%d", i, j)), AssumeRolePolicyDocument: sdkaws.String(sageMakerTrust)})
				_, _ = v.sm.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{})
			}
		})
	}
	for i := range 20 {
		v.emu.SetFaults(Faults{ThrottleFraction: float64(i%3) / 3, Seed: uint64(i)})
	}
	wg.Wait()
	calls := v.emu.Calls()
	if calls["CreateRole"] != 100 || calls["ListUserProfiles"] != 100 {
		t.Errorf("calls = %v", calls)
	}
}

func TestCounters(t *testing.T) {
	v := newEnv(t, Options{})
	v.createRole(t, "r", sageMakerTrust)
	_, _ = v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("r")})
	_, _ = v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("nope")})
	_, _ = v.sm.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{})
	calls := v.emu.Calls()
	if calls["CreateRole"] != 1 || calls["GetRole"] != 2 || calls["ListUserProfiles"] != 1 {
		t.Errorf("calls = %v", calls)
	}
	out := v.emu.Outcomes()
	if out[Outcome{"GetRole", "ok"}] != 1 || out[Outcome{"GetRole", "NoSuchEntity"}] != 1 {
		t.Errorf("outcomes = %v", out)
	}
	if n := v.emu.WriteCalls(); n != 1 {
		t.Errorf("WriteCalls = %d, want 1", n)
	}
	v.emu.ResetCounters()
	_, _ = v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("r")})
	if calls := v.emu.Calls(); len(calls) != 1 || v.emu.WriteCalls() != 0 {
		t.Errorf("after reset: %v", calls)
	}
}

func TestIsWrite(t *testing.T) {
	for op := range iamOps {
		checkIsWrite(t, op)
	}
	for op := range smOps {
		checkIsWrite(t, op)
	}
	if !IsWrite(unknownOp) {
		t.Errorf("unknown operations must count as writes")
	}
}

var reads = map[string]bool{
	"GetRole": true, "ListRoleTags": true, "ListRoles": true, "GetRolePolicy": true, "ListRolePolicies": true,
	"ListAttachedRolePolicies": true, "GetSAMLProvider": true, "ListSAMLProviders": true, "ListSAMLProviderTags": true,
	"GetAccountSummary": true, "DescribeUserProfile": true, "ListUserProfiles": true, "ListTags": true,
	"ListApps": true, "ListSpaces": true, "DescribeSpace": true, "DescribeDomain": true,
}

func checkIsWrite(t *testing.T, op string) {
	t.Helper()
	if IsWrite(op) == reads[op] {
		t.Errorf("IsWrite(%s) = %v", op, IsWrite(op))
	}
}

func tagsN(n int) []iamtypes.Tag {
	var out []iamtypes.Tag
	for i := range n {
		out = append(out, iamtypes.Tag{Key: sdkaws.String(fmt.Sprintf("k%02d", i)), Value: sdkaws.String("v")})
	}
	return out
}
