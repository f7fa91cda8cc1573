package aws

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
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
