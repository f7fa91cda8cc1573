package sync

import (
	"encoding/json"
	"slices"
)

// Tag keys the sync puts on what it creates, besides the ownership tag.
const (
	TagUserID = "userId"
	TagTeam   = "team"
)

type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal"`
	Action    []string                  `json:"Action"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// federationTrust lets the SAML provider's users assume the role through
// AWS sign-in only (SAML:aud), tag the session with no keys but the
// configured session tags, and set the source identity.
func federationTrust(providerARN, signIn string, tagKeys []string) string {
	cond := map[string]map[string]any{"StringEquals": {"SAML:aud": signIn}}
	if len(tagKeys) > 0 {
		keys := slices.Sorted(slices.Values(tagKeys))
		cond["ForAllValues:StringEquals"] = map[string]any{"aws:TagKeys": keys}
	}
	return mustJSON(policyDoc{Version: "2012-10-17", Statement: []statement{{
		Effect:    "Allow",
		Principal: map[string]string{"Federated": providerARN},
		Action:    []string{"sts:AssumeRoleWithSAML", "sts:SetSourceIdentity", "sts:TagSession"},
		Condition: cond,
	}}})
}

// executionTrust lets SageMaker assume the role for the team's Studio apps.
func executionTrust() string {
	return mustJSON(policyDoc{Version: "2012-10-17", Statement: []statement{{
		Effect:    "Allow",
		Principal: map[string]string{"Service": "sagemaker.amazonaws.com"},
		Action:    []string{"sts:AssumeRole"},
	}}})
}

// mustJSON encodes values built from strings, maps and slices only, which
// cannot fail to encode.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}
