package awsemu

import (
	"fmt"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// A policy document comes back URL-encoded and reformatted: decoded with
// PathUnescape and parsed it equals what was sent, as text it does not
// (reference rules 3 and 4).
func TestPolicyDocumentRoundTrip(t *testing.T) {
	docs := []struct{ name, doc string }{
		{"one-element arrays", readPolicy},
		{"single statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}}`},
		{"indented with conditions", `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Studio",
      "Effect": "Allow",
      "Action": ["sagemaker:CreatePresignedDomainUrl"],
      "Resource": "*",
      "Condition": {
        "StringEquals": {"sagemaker:ResourceTag/userId": "${aws:PrincipalTag/userId}"},
        "Bool": {"aws:SecureTransport": true},
        "NumericLessThan": {"aws:MultiFactorAuthAge": 3600}
      }
    }
  ]
}`},
	}
	v := newEnv(t, Options{})
	v.createRole(t, "r", sageMakerTrust)
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			_, err := v.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: sdkaws.String("r"), PolicyName: sdkaws.String("p"), PolicyDocument: sdkaws.String(d.doc)})
			mustOK(t, err)
			out, err := v.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: sdkaws.String("r"), PolicyName: sdkaws.String("p")})
			mustOK(t, err)
			raw := sdkaws.ToString(out.PolicyDocument)
			if strings.ContainsAny(raw, `{}":`) {
				t.Fatalf("document not URL-encoded: %.60s", raw)
			}
			got := decodeDoc(t, out.PolicyDocument)
			if !samePolicy(t, got, d.doc) {
				t.Errorf("decoded document differs in meaning:\nsent %s\ngot  %s", d.doc, got)
			}
			if got == d.doc {
				t.Errorf("document returned byte-identical; IAM reformats it")
			}
			if sdkaws.ToString(out.RoleName) != "r" || sdkaws.ToString(out.PolicyName) != "p" {
				t.Errorf("GetRolePolicy names: %+v", out)
			}
		})
	}
	// A "+" in a value must survive the round trip: IAM percent-encodes it,
	// and PathUnescape (not QueryUnescape) is the decoder that never turns a
	// literal "+" into a space.
	_, err := v.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: sdkaws.String("r"), PolicyName: sdkaws.String("plus"), PolicyDocument: sdkaws.String(readPolicy)})
	mustOK(t, err)
	got, err := v.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: sdkaws.String("r"), PolicyName: sdkaws.String("plus")})
	mustOK(t, err)
	if raw := sdkaws.ToString(got.PolicyDocument); strings.ContainsAny(raw, "+ ") {
		t.Errorf("'+' or space not percent-encoded: %s", raw)
	}
	if !strings.Contains(decodeDoc(t, got.PolicyDocument), `"a+b c"`) {
		t.Errorf("round trip lost the '+': %s", decodeDoc(t, got.PolicyDocument))
	}
}

func TestInlinePolicies(t *testing.T) {
	v := newEnv(t, Options{})
	v.createRole(t, "r", sageMakerTrust)
	put := func(role, name, doc string) error {
		_, err := v.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: sdkaws.String(role), PolicyName: sdkaws.String(name), PolicyDocument: sdkaws.String(doc)})
		return err
	}
	tests := []struct {
		name, role, policy, doc, code string
	}{
		{"ok", "r", "p1", readPolicy, ""},
		{"replace", "r", "p1", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"principal in an identity policy", "r", "p2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, "MalformedPolicyDocument"},
		{"no resource", "r", "p2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`, "MalformedPolicyDocument"},
		{"no action", "r", "p2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, "MalformedPolicyDocument"},
		{"action without vendor", "r", "p2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, "MalformedPolicyDocument"},
		{"resource not an ARN", "r", "p2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}`, "MalformedPolicyDocument"},
		{"unknown field", "r", "p2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Extra":1}}`, "MalformedPolicyDocument"},
		{"trailing garbage", "r", "p2", readPolicy + "x", "MalformedPolicyDocument"},
		{"condition not an object", "r", "p2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":"x"}}`, "MalformedPolicyDocument"},
		{"sid not alphanumeric", "r", "p2", `{"Version":"2012-10-17","Statement":{"Sid":"a b","Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "MalformedPolicyDocument"},
		{"bad policy name", "r", "a b", readPolicy, "ValidationError"},
		{"unknown role", "nope", "p2", readPolicy, "NoSuchEntity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, put(tt.role, tt.policy, tt.doc), tt.code) })
	}
	r, _ := v.emu.Role("r")
	if len(r.InlinePolicies) != 1 || !strings.Contains(r.InlinePolicies["p1"], `"s3:*"`) {
		t.Errorf("inline policies: %v", r.InlinePolicies)
	}

	// All inline policies of a role share the 10,240-character quota.
	big := func(n int) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s"}}`, strings.Repeat("b", n))
	}
	mustOK(t, put("r", "big1", big(6000)))
	wantCode(t, put("r", "big2", big(4500)), "LimitExceeded")
	mustOK(t, put("r", "big1", big(100))) // replacing shrinks the total
	mustOK(t, put("r", "big2", big(4500)))

	// ListRolePolicies pages.
	for i := range 5 {
		mustOK(t, put("r", fmt.Sprintf("x%d", i), readPolicy))
	}
	var names []string
	p := iam.NewListRolePoliciesPaginator(v.iam, &iam.ListRolePoliciesInput{RoleName: sdkaws.String("r")}, func(o *iam.ListRolePoliciesPaginatorOptions) { o.Limit = 3 })
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		mustOK(t, err)
		names = append(names, out.PolicyNames...)
	}
	if fmt.Sprint(names) != "[big1 big2 p1 x0 x1 x2 x3 x4]" {
		t.Errorf("ListRolePolicies = %v", names)
	}

	_, err := v.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: sdkaws.String("r"), PolicyName: sdkaws.String("p1")})
	mustOK(t, err)
	_, err = v.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: sdkaws.String("r"), PolicyName: sdkaws.String("p1")})
	wantCode(t, err, "NoSuchEntity")
	_, err = v.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: sdkaws.String("r"), PolicyName: sdkaws.String("p1")})
	wantCode(t, err, "NoSuchEntity")
	if !isType[*iamtypes.NoSuchEntityException](err) {
		t.Errorf("GetRolePolicy NoSuchEntity not typed: %T", err)
	}
}

func TestAttachedPolicies(t *testing.T) {
	v := newEnv(t, Options{Quotas: Quotas{AttachedPoliciesPerRole: 4}})
	v.createRole(t, "r", sageMakerTrust)
	attach := func(arn string) error {
		_, err := v.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: sdkaws.String("r"), PolicyArn: sdkaws.String(arn)})
		return err
	}
	const (
		full   = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
		canvas = "arn:aws:iam::aws:policy/service-role/AmazonSageMakerCanvasFullAccess"
		own    = "arn:aws:iam::123456789012:policy/team/abac"
	)
	tests := []struct{ name, arn, code string }{
		{"aws managed", full, ""},
		{"again is a no-op", full, ""},
		{"with a path", canvas, ""},
		{"the account's own", own, ""},
		{"another account's", "arn:aws:iam::999999999999:policy/x", "NoSuchEntity"},
		{"not a policy ARN", "arn:aws:s3:::bucket/policy", "InvalidInput"},
		{"too short", "arn:x", "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, attach(tt.arn), tt.code) })
	}
	mustOK(t, attach("arn:aws:iam::aws:policy/ReadOnlyAccess"))
	wantCode(t, attach("arn:aws:iam::aws:policy/PowerUserAccess"), "LimitExceeded")

	list := func(in *iam.ListAttachedRolePoliciesInput) []string {
		var out []string
		p := iam.NewListAttachedRolePoliciesPaginator(v.iam, in, func(o *iam.ListAttachedRolePoliciesPaginatorOptions) { o.Limit = 2 })
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			mustOK(t, err)
			for _, a := range page.AttachedPolicies {
				out = append(out, sdkaws.ToString(a.PolicyName)+"="+sdkaws.ToString(a.PolicyArn))
			}
		}
		return out
	}
	if got := list(&iam.ListAttachedRolePoliciesInput{RoleName: sdkaws.String("r")}); len(got) != 4 || got[3] != "AmazonSageMakerCanvasFullAccess="+canvas {
		t.Errorf("attached = %v", got)
	}
	if got := list(&iam.ListAttachedRolePoliciesInput{RoleName: sdkaws.String("r"), PathPrefix: sdkaws.String("/team/")}); len(got) != 1 || got[0] != "abac="+own {
		t.Errorf("PathPrefix /team/ = %v", got)
	}

	_, err := v.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: sdkaws.String("r"), PolicyArn: sdkaws.String(full)})
	mustOK(t, err)
	_, err = v.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: sdkaws.String("r"), PolicyArn: sdkaws.String(full)})
	wantCode(t, err, "NoSuchEntity")
	_, err = v.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: sdkaws.String("nope")})
	wantCode(t, err, "NoSuchEntity")
}
