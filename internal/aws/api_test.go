package aws

import (
	"errors"
	"fmt"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
)

func iamTag(k, v string) iamtypes.Tag {
	return iamtypes.Tag{Key: sdkaws.String(k), Value: sdkaws.String(v)}
}
func smTag(k, v string) smtypes.Tag {
	return smtypes.Tag{Key: sdkaws.String(k), Value: sdkaws.String(v)}
}

func TestOwnership(t *testing.T) {
	o := Owner{Key: "sagebridge:managed", Value: "true"}
	for _, tt := range []struct {
		name    string
		iam     []iamtypes.Tag
		sm      []smtypes.Tag
		wantIAM bool
		wantSM  bool
	}{
		{name: "none"},
		{name: "owned", iam: []iamtypes.Tag{iamTag("team", "a"), iamTag("sagebridge:managed", "true")},
			sm: []smtypes.Tag{smTag("sagebridge:managed", "true")}, wantIAM: true, wantSM: true},
		{name: "other value", iam: []iamtypes.Tag{iamTag("sagebridge:managed", "false")},
			sm: []smtypes.Tag{smTag("sagebridge:managed", "yes")}},
		// IAM keys compare case-insensitively, SageMaker keys exactly.
		{name: "key case", iam: []iamtypes.Tag{iamTag("SageBridge:Managed", "true")},
			sm: []smtypes.Tag{smTag("SageBridge:Managed", "true")}, wantIAM: true},
		{name: "value case", iam: []iamtypes.Tag{iamTag("sagebridge:managed", "TRUE")}},
	} {
		if got := o.OwnsIAM(tt.iam); got != tt.wantIAM {
			t.Errorf("%s: OwnsIAM = %v, want %v", tt.name, got, tt.wantIAM)
		}
		if got := o.OwnsSageMaker(tt.sm); got != tt.wantSM {
			t.Errorf("%s: OwnsSageMaker = %v, want %v", tt.name, got, tt.wantSM)
		}
	}
	if !o.OwnsIAM([]iamtypes.Tag{o.IAMTag()}) || !o.OwnsSageMaker([]smtypes.Tag{o.SageMakerTag()}) {
		t.Error("the tags Owner makes must be owned")
	}
}

func TestTagMapsRoundTrip(t *testing.T) {
	m := map[string]string{"team": "a", "userId": "alice", "empty": ""}
	if got := IAMTagMap(IAMTags(m)); fmt.Sprint(got) != fmt.Sprint(m) {
		t.Errorf("IAM round trip: %v", got)
	}
	if got := SageMakerTagMap(SageMakerTags(m)); fmt.Sprint(got) != fmt.Sprint(m) {
		t.Errorf("SageMaker round trip: %v", got)
	}
}

func TestMessage(t *testing.T) {
	err := fmt.Errorf("create profile: %w", &smithy.GenericAPIError{Code: "ValidationException", Message: "role is invalid"})
	if got := Message(err); got != "role is invalid" {
		t.Errorf("Message = %q", got)
	}
	if Message(errors.New("plain")) != "" {
		t.Error("a non-API error has no message")
	}
}
