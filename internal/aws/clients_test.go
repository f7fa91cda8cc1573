package aws

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go"
)

// The clients must reach the configured endpoints with each service's wire
// protocol and a SigV4 signature, since the emulator and any compatible
// endpoint rely on both.
func TestClientsUseConfiguredEndpoints(t *testing.T) {
	type seen struct{ target, action, auth string }
	calls := make(chan seen, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		calls <- seen{target: r.Header.Get("X-Amz-Target"), action: form.Get("Action"), auth: r.Header.Get("Authorization")}
		if r.Header.Get("X-Amz-Target") != "" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			io.WriteString(w, `{"UserProfileName":"alice","DomainId":"d-1","Status":"InService"}`)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><RoleName>r</RoleName><Arn>arn:aws:iam::123456789012:role/r</Arn><Path>/</Path><RoleId>AROA1</RoleId><CreateDate>2024-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument></Role></GetRoleResult></GetRoleResponse>`)
	}))
	defer srv.Close()

	c, err := New(context.Background(), Options{
		Region: "eu-west-1", IAMEndpoint: srv.URL, SageMakerEndpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	role, err := c.IAM.GetRole(context.Background(), &iam.GetRoleInput{RoleName: sdkaws.String("r")})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if sdkaws.ToString(role.Role.Arn) != "arn:aws:iam::123456789012:role/r" {
		t.Fatalf("GetRole decoded %+v", role.Role)
	}
	if got := <-calls; got.action != "GetRole" || !strings.HasPrefix(got.auth, "AWS4-HMAC-SHA256") {
		t.Fatalf("IAM call: %+v", got)
	}
	p, err := c.SageMaker.DescribeUserProfile(context.Background(), &sagemaker.DescribeUserProfileInput{
		DomainId: sdkaws.String("d-1"), UserProfileName: sdkaws.String("alice")})
	if err != nil {
		t.Fatalf("DescribeUserProfile: %v", err)
	}
	if sdkaws.ToString(p.UserProfileName) != "alice" {
		t.Fatalf("DescribeUserProfile decoded %+v", p)
	}
	if got := <-calls; got.target != "SageMaker.DescribeUserProfile" {
		t.Fatalf("SageMaker call: %+v", got)
	}
}

func TestRegionIsRequired(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	if _, err := New(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("err = %v", err)
	}
}

// A paced client answers a throttle with an immediate retry, which the
// limiter paces; anything else retryable, and any throttle of a client
// without a limiter, keeps the SDK's exponential backoff.
func TestRetryDelay(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	unavailable := &smithy.GenericAPIError{Code: "ServiceUnavailable"}
	for _, tt := range []struct {
		name      string
		paced     bool
		err       error
		wantSleep bool
	}{
		{"paced throttle", true, throttled, false},
		{"paced SageMaker throttle", true, &smithy.GenericAPIError{Code: "ThrottlingException"}, false},
		{"paced 5xx", true, unavailable, true},
		{"unpaced throttle", false, throttled, true},
		{"unpaced 5xx", false, unavailable, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := newRetryer(tt.paced).RetryDelay(1, tt.err)
			if err != nil {
				t.Fatal(err)
			}
			if (d > 0) != tt.wantSleep {
				t.Errorf("delay %s, want a sleep: %v", d, tt.wantSleep)
			}
		})
	}
}

// throttleServer throttles the first calls, then answers NoSuchEntity.
type throttleServer struct {
	throttles int
	calls     atomic.Int32
}

func (s *throttleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if int(s.calls.Add(1)) <= s.throttles {
		(&errorServer{status: 400, code: "Throttling"}).ServeHTTP(w, r)
		return
	}
	(&errorServer{status: 404, code: "NoSuchEntity"}).ServeHTTP(w, r)
}

// Every retry of a throttled call spends a token of the client's limiter,
// so throttles never push the client past its budget, and with tokens to
// spare the retries run at once.
func TestThrottledRetriesGoThroughTheLimiter(t *testing.T) {
	for _, tt := range []struct {
		name    string
		rate    float64
		wantErr string
	}{
		{"tokens to spare", 1000, ""},
		// One token, no refill in sight: the retry waits for the limiter,
		// and the deadline shows it without timing anything.
		{"no token left", 0.001, "client rate limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &throttleServer{throttles: 2}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c := newTestClients(t, srv.URL, Options{IAMRate: tt.rate})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("r")})
			switch {
			case tt.wantErr == "" && (Classify(err) != NotFound || s.calls.Load() != 3):
				t.Errorf("after 2 throttles: %v in %d calls; want NoSuchEntity on the 3rd", err, s.calls.Load())
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || s.calls.Load() != 1):
				t.Errorf("%v after %d calls; want %q after the first", err, s.calls.Load(), tt.wantErr)
			}
		})
	}
}
