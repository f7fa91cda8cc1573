package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
)

// errorServer answers every call with the error its test sets, in the wire
// shape of the protocol the call used.
type errorServer struct {
	status int
	code   string
}

func (e *errorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if r.Header.Get("X-Amz-Target") != "" {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", e.code)
		w.WriteHeader(e.status)
		fmt.Fprintf(w, `{"__type":%q,"message":"test"}`, e.code)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>test</Message></Error><RequestId>r</RequestId></ErrorResponse>`, e.code)
}

func newTestClients(t *testing.T, url string, o Options) *Clients {
	t.Helper()
	o.Region, o.IAMEndpoint, o.SageMakerEndpoint = "us-east-1", url, url
	o.Credentials = credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClassifySDKErrors(t *testing.T) {
	es := &errorServer{}
	srv := httptest.NewServer(es)
	defer srv.Close()
	c := newTestClients(t, srv.URL, Options{})
	once := func(o *iam.Options) { o.RetryMaxAttempts = 1 }
	onceSM := func(o *sagemaker.Options) { o.RetryMaxAttempts = 1 }
	iamCall := func() error {
		_, err := c.IAM.GetRole(context.Background(), &iam.GetRoleInput{RoleName: sdkaws.String("r")}, once)
		return err
	}
	smCall := func() error {
		_, err := c.SageMaker.DescribeUserProfile(context.Background(), &sagemaker.DescribeUserProfileInput{
			DomainId: sdkaws.String("d"), UserProfileName: sdkaws.String("u")}, onceSM)
		return err
	}
	for _, tt := range []struct {
		call   func() error
		status int
		code   string
		want   Class
	}{
		{iamCall, 400, "Throttling", Throttled},
		{iamCall, 404, "NoSuchEntity", NotFound},
		{iamCall, 409, "EntityAlreadyExists", AlreadyExists},
		{iamCall, 409, "DeleteConflict", Conflict},
		{iamCall, 409, "LimitExceeded", Terminal},
		{iamCall, 400, "MalformedPolicyDocument", Terminal},
		{iamCall, 503, "ServiceUnavailable", Transient},
		{iamCall, 400, "ServiceFailure", Transient},
		{iamCall, 500, "SomethingNew", Transient},
		{iamCall, 400, "SomethingNew", Unknown},
		{smCall, 400, "ThrottlingException", Throttled},
		{smCall, 400, "ResourceNotFound", NotFound},
		{smCall, 400, "ResourceInUse", Conflict},
		{smCall, 400, "ResourceLimitExceeded", Terminal},
		{smCall, 400, "ValidationException", Terminal},
		{smCall, 500, "InternalFailure", Transient},
	} {
		es.status, es.code = tt.status, tt.code
		err := tt.call()
		if got := Classify(err); got != tt.want {
			t.Errorf("%s (HTTP %d): Classify = %s, want %s (err %v)", tt.code, tt.status, got, tt.want, err)
		}
		if got := Code(err); got != tt.code {
			t.Errorf("%s: Code = %q", tt.code, got)
		}
	}
	if Classify(nil) != Unknown || Classify(errors.New("x")) != Unknown {
		t.Error("non-API errors must be Unknown")
	}
	if got := Classify(fmt.Errorf("op: %w", ratelimit.QuotaExceededError{Available: 0, Requested: 5})); got != Transient {
		t.Errorf("retry quota: %s", got)
	}
}

// The limiter spends a token per attempt: with one token and no refill in
// sight, the second call must wait, and a deadline makes that visible
// without timing anything.
func TestClientRateLimit(t *testing.T) {
	es := &errorServer{status: 404, code: "NoSuchEntity"}
	srv := httptest.NewServer(es)
	defer srv.Close()
	c := newTestClients(t, srv.URL, Options{IAMRate: 0.001, SageMakerRate: 0.001})
	call := func(ctx context.Context) error {
		_, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("r")})
		return err
	}
	if err := call(context.Background()); Classify(err) != NotFound {
		t.Fatalf("first call: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := call(ctx); err == nil || !strings.Contains(err.Error(), "client rate limit") {
		t.Fatalf("second call within the same second: %v", err)
	}
	// The SageMaker client has its own bucket.
	_, err := c.SageMaker.DescribeUserProfile(context.Background(), &sagemaker.DescribeUserProfileInput{
		DomainId: sdkaws.String("d"), UserProfileName: sdkaws.String("u")})
	if strings.Contains(fmt.Sprint(err), "client rate limit") {
		t.Fatalf("SageMaker shares IAM's bucket: %v", err)
	}
}
