package awsemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

const testDomain = "d-testdomain1"

var epochStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	emu   *Emulator
	iam   *iam.Client
	sm    *sagemaker.Client
	clock *ManualClock
	url   string
}

// newEnv starts an emulator on loopback and builds the real SDK clients
// with internal/aws.New, pointed at it. Unless opts say otherwise it runs
// on a manual clock and has the domain testDomain. The clients do not
// retry, so every SDK call is exactly one emulator call; the fault tests
// build their own retryer.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := NewManualClock(epochStart)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Domains == nil {
		opts.Domains = []Domain{{ID: testDomain, Name: "test"}}
	}
	emu := New(opts)
	u, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		emu.Close()
		if n := emu.Panics(); n != 0 {
			t.Errorf("emulator panicked %d times", n)
		}
	})
	c, err := bridgeaws.New(context.Background(), bridgeaws.Options{
		Region: "eu-west-1", IAMEndpoint: u, SageMakerEndpoint: u,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "SECRET", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		emu:   emu,
		iam:   iam.New(c.IAM.Options(), func(o *iam.Options) { o.Retryer = sdkaws.NopRetryer{} }),
		sm:    sagemaker.New(c.SageMaker.Options(), func(o *sagemaker.Options) { o.Retryer = sdkaws.NopRetryer{} }),
		clock: clock,
		url:   u,
	}
}

var ctx = context.Background()

// code returns the API error code of err, "" for nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

// httpStatus returns the HTTP status the SDK saw for a failed call.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// isType reports whether err is (wraps) an error of type T, e.g.
// *iamtypes.NoSuchEntityException: what the SDK's typed-error mapping gave.
func isType[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

const sageMakerTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["sagemaker.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}`

func samlTrust(account, provider string) string {
	return fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::%s:saml-provider/%s"},
    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"],
    "Condition": {"StringEquals": {"SAML:aud": ["https://signin.aws.amazon.com/saml"]}}
  }]
}`, account, provider)
}

const readPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"],"Condition":{"StringEquals":{"aws:PrincipalTag/team":"a+b c"}}}]}`

// samlMetadata returns IdP metadata of at least 1,000 characters, the
// minimum IAM accepts.
func samlMetadata(entityID string) string {
	cert := strings.Repeat("MIIBszCCARygAwIBAgIJAKexample", 40)
	return fmt.Sprintf(`<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`, entityID, cert, entityID)
}

func (v *env) createRole(t *testing.T, name, trust string, tags ...iamtypes.Tag) *iamtypes.Role {
	t.Helper()
	out, err := v.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: sdkaws.String(name), AssumeRolePolicyDocument: sdkaws.String(trust), Tags: tags,
	})
	mustOK(t, err)
	return out.Role
}

// executionRole creates a role SageMaker accepts and waits (by observing)
// until SageMaker sees it.
func (v *env) executionRole(t *testing.T, name string) string {
	t.Helper()
	r := v.createRole(t, name, sageMakerTrust)
	v.emu.mu.Lock()
	visible := false
	for i := 0; i < 100 && !visible; i++ {
		_, visible = v.emu.iam.roles[strings.ToLower(name)].seenBySageMaker(v.emu.now())
	}
	v.emu.mu.Unlock()
	if !visible {
		t.Fatalf("role %s never became visible to SageMaker", name)
	}
	return sdkaws.ToString(r.Arn)
}

func (v *env) createProfile(t *testing.T, name, role string, tags ...smtypes.Tag) string {
	t.Helper()
	in := &sagemaker.CreateUserProfileInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String(name), Tags: tags}
	if role != "" {
		in.UserSettings = &smtypes.UserSettings{ExecutionRole: sdkaws.String(role)}
	}
	out, err := v.sm.CreateUserProfile(ctx, in)
	mustOK(t, err)
	return sdkaws.ToString(out.UserProfileArn)
}

func (v *env) describe(t *testing.T, name string) (*sagemaker.DescribeUserProfileOutput, error) {
	t.Helper()
	return v.sm.DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{DomainId: sdkaws.String(testDomain), UserProfileName: sdkaws.String(name)})
}

// settle describes a profile until it leaves its transitional state.
func (v *env) settle(t *testing.T, name string) smtypes.UserProfileStatus {
	t.Helper()
	for range 10 {
		out, err := v.describe(t, name)
		if code(err) == "ResourceNotFound" {
			return ""
		}
		mustOK(t, err)
		switch out.Status {
		case smtypes.UserProfileStatusPending, smtypes.UserProfileStatusUpdating, smtypes.UserProfileStatusDeleting:
			continue
		}
		return out.Status
	}
	t.Fatalf("profile %s did not settle", name)
	return ""
}

// samePolicy compares two policy documents parsed and normalised: a string
// and a one-element array of it are equal, and arrays of strings are sets.
// This is the comparison the sync must make (reference rule 4).
func samePolicy(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("parse %q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("parse %q: %v", b, err)
	}
	return reflect.DeepEqual(normalise(x), normalise(y))
}

func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	case []any:
		var ss []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				out := make([]any, len(x))
				for i, e := range x {
					out[i] = normalise(e)
				}
				return out
			}
			ss = append(ss, s)
		}
		if len(ss) == 1 {
			return ss[0]
		}
		sort.Strings(ss)
		return strings.Join(ss, "\x00")
	}
	return v
}

// decodeDoc undoes IAM's URL-encoding the way a Go client must: PathUnescape,
// since QueryUnescape would turn "+" into a space (reference rule 3).
func decodeDoc(t *testing.T, s *string) string {
	t.Helper()
	d, err := url.PathUnescape(sdkaws.ToString(s))
	if err != nil {
		t.Fatalf("PathUnescape: %v", err)
	}
	return d
}
