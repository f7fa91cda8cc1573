package mapping

import (
	"encoding/json"
	"testing"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/store"
)

const (
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	acmeURN       = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
)

// awsSection returns a valid aws section for a partition.
func awsSection(partition string) string {
	region := map[string]string{"aws": "eu-west-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}[partition]
	return "aws:\n  accountId: \"111122223333\"\n  region: " + region + "\n  partition: " + partition +
		"\n  sagemaker: {domainId: d-abc123}\n"
}

// threeTeams is a teams list: research (20) and platform (10) by
// displayName, research also by externalId, interns (0).
const threeTeams = `  teams:
    - name: research
      groups: [{displayName: ML Research}, {externalId: ext-r}]
      priority: 20
    - name: platform
      groups: [{displayName: ML Platform}]
      priority: 10
    - name: interns
      groups: [{displayName: Interns}]
`

// newMapping parses an aws section and a mapping body and builds the
// Mapping, failing the test on any problem.
func newMapping(t testing.TB, aws, body string) *Mapping {
	t.Helper()
	c, err := config.Parse("", []byte(aws+"mapping:\n"+body))
	if err != nil {
		t.Fatalf("config:\n%v", err)
	}
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newUser builds an active user whose document is doc plus userName.
func newUser(userName string, doc map[string]any) store.User {
	if doc == nil {
		doc = map[string]any{}
	}
	doc["userName"] = userName
	data, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	u := store.User{ID: "id-" + userName, UserName: userName, Active: true, Data: data}
	if ext, ok := doc["externalId"].(string); ok {
		u.ExternalID = ext
	}
	return u
}

func group(displayName, externalID string) store.Group {
	data, _ := json.Marshal(map[string]any{"displayName": displayName, "externalId": externalID})
	return store.Group{ID: "g-" + displayName, DisplayName: displayName, ExternalID: externalID, Data: data}
}

func groups(names ...string) []store.Group {
	out := make([]store.Group, len(names))
	for i, n := range names {
		out[i] = group(n, "")
	}
	return out
}
