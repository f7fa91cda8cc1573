package awsemu

import (
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestSAMLProviderLifecycle(t *testing.T) {
	v := newEnv(t, Options{})
	md := samlMetadata("https://bridge.example.com/saml")
	created, err := v.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{
		Name: sdkaws.String("sagebridge"), SAMLMetadataDocument: sdkaws.String(md),
		Tags: []iamtypes.Tag{{Key: sdkaws.String("managed-by"), Value: sdkaws.String("sagebridge")}},
	})
	mustOK(t, err)
	arn := sdkaws.ToString(created.SAMLProviderArn)
	if arn != "arn:aws:iam::123456789012:saml-provider/sagebridge" || len(created.Tags) != 1 {
		t.Fatalf("CreateSAMLProvider = %s, tags %v", arn, created.Tags)
	}

	_, err = v.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: sdkaws.String("sagebridge"), SAMLMetadataDocument: sdkaws.String(md)})
	wantCode(t, err, "EntityAlreadyExists")

	got, err := v.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn)})
	mustOK(t, err)
	if sdkaws.ToString(got.SAMLMetadataDocument) != md || got.CreateDate == nil || got.ValidUntil == nil || got.SAMLProviderUUID == nil || len(got.Tags) != 1 {
		t.Errorf("GetSAMLProvider = %+v", got)
	}

	// The listing has no metadata: comparing it needs GetSAMLProvider.
	list, err := v.iam.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	mustOK(t, err)
	if len(list.SAMLProviderList) != 1 || sdkaws.ToString(list.SAMLProviderList[0].Arn) != arn || list.SAMLProviderList[0].CreateDate == nil {
		t.Errorf("ListSAMLProviders = %+v", list.SAMLProviderList)
	}

	md2 := strings.Replace(samlMetadata("https://bridge.example.com/saml"), "/sso", "/sso2", 1)
	upd, err := v.iam.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn), SAMLMetadataDocument: sdkaws.String(md2)})
	mustOK(t, err)
	if sdkaws.ToString(upd.SAMLProviderArn) != arn {
		t.Errorf("UpdateSAMLProvider arn = %s", sdkaws.ToString(upd.SAMLProviderArn))
	}
	if st := v.emu.Snapshot().SAMLProviders; len(st) != 1 || st[0].Metadata != md2 {
		t.Errorf("metadata not replaced")
	}

	_, err = v.iam.TagSAMLProvider(ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn), Tags: []iamtypes.Tag{{Key: sdkaws.String("env"), Value: sdkaws.String("dev")}}})
	mustOK(t, err)
	_, err = v.iam.UntagSAMLProvider(ctx, &iam.UntagSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn), TagKeys: []string{"MANAGED-BY"}})
	mustOK(t, err)
	tags, err := v.iam.ListSAMLProviderTags(ctx, &iam.ListSAMLProviderTagsInput{SAMLProviderArn: sdkaws.String(arn)})
	mustOK(t, err)
	if len(tags.Tags) != 1 || sdkaws.ToString(tags.Tags[0].Key) != "env" || tags.IsTruncated {
		t.Errorf("ListSAMLProviderTags = %+v", tags.Tags)
	}

	_, err = v.iam.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn)})
	mustOK(t, err)
	_, err = v.iam.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn)})
	wantCode(t, err, "NoSuchEntity")
	_, err = v.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn)})
	wantCode(t, err, "NoSuchEntity")
}

func TestSAMLProviderErrors(t *testing.T) {
	v := newEnv(t, Options{Quotas: Quotas{SAMLProviders: 1}})
	md := samlMetadata("https://idp")
	_, err := v.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: sdkaws.String("one"), SAMLMetadataDocument: sdkaws.String(md)})
	mustOK(t, err)
	tests := []struct {
		name, provider, metadata, code string
	}{
		// The Go SDK lets a 4-character document through (reference rule 7).
		{"metadata too short", "p", "<x/>", "ValidationError"},
		{"metadata not XML", "p", strings.Repeat("x", 1200), "InvalidInput"},
		{"metadata without an IdP", "p", `<EntityDescriptor entityID="x">` + strings.Repeat(" ", 1000) + `</EntityDescriptor>`, "InvalidInput"},
		{"name with a slash", "a/b", md, "ValidationError"},
		{"quota", "two", md, "LimitExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: sdkaws.String(tt.provider), SAMLMetadataDocument: sdkaws.String(tt.metadata)})
			wantCode(t, err, tt.code)
		})
	}
	for _, arn := range []string{"not-an-arn-at-all-xx", "arn:aws:iam::123456789012:role/one"} {
		_, err := v.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: sdkaws.String(arn)})
		wantCode(t, err, "InvalidInput")
	}
	_, err = v.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: sdkaws.String("arn:aws:iam::999999999999:saml-provider/one")})
	wantCode(t, err, "NoSuchEntity")
}
