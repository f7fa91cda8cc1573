package configtest

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

const (
	policyFile        = "../iam/bridge-policy.json"
	prerequisitesFile = "../../docs/aws-prerequisites.md"
)

// placeholders are what an operator fills in (docs/aws-prerequisites.md
// says from which configuration field), with an example value each.
var placeholders = map[string]string{
	"Partition":         "aws",
	"AccountId":         "111122223333",
	"Region":            "eu-west-1",
	"DomainId":          "d-abc123def456",
	"RolePath":          "/sagebridge/",
	"SAMLProviderName":  "sagebridge",
	"OwnershipTagKey":   "sagebridge:managed",
	"OwnershipTagValue": "true",
}

// dependent are actions the bridge never calls by name but that AWS
// authorizes as part of a call it makes.
var dependent = map[string]string{
	"iam:PassRole":        "CreateUserProfile and UpdateUserProfile set a team's execution role",
	"iam:TagSAMLProvider": "CreateSAMLProvider carries the ownership tag (tag on create)",
}

// noResourceLevel are the actions AWS authorizes only on "*".
var noResourceLevel = []string{"iam:ListRoles", "sagemaker:ListUserProfiles", "sagemaker:ListApps", "sagemaker:ListSpaces"}

// untaggable are writes on resources the bridge does not create, so no
// ownership tag can scope them: a deprovisioned user's apps and spaces.
// PassRole is scoped by iam:PassedToService instead.
var untaggable = []string{"sagemaker:DeleteApp", "sagemaker:DeleteSpace", "iam:PassRole"}

// stringList is a policy element that is one string or a list of them.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		return json.Unmarshal(b, (*[]string)(s))
	}
	var one string
	err := json.Unmarshal(b, &one)
	*s = stringList{one}
	return err
}

type statement struct {
	Sid       string                           `json:"Sid"`
	Effect    string                           `json:"Effect"`
	Action    stringList                       `json:"Action"`
	Resource  stringList                       `json:"Resource"`
	Condition map[string]map[string]stringList `json:"Condition"`
}

func loadPolicy(t *testing.T) (raw []byte, stmts []statement) {
	t.Helper()
	raw, err := os.ReadFile(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", policyFile, err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("Version %q: policy variables and conditions need 2012-10-17", doc.Version)
	}
	return raw, doc.Statement
}

// operations returns prefix:Method for every method of the interface T:
// the AWS operations the bridge calls.
func operations[T any](prefix string) []string {
	typ := reflect.TypeFor[T]()
	ops := make([]string, typ.NumMethod())
	for i := range ops {
		ops[i] = prefix + ":" + typ.Method(i).Name
	}
	return ops
}

func TestIAMPolicyCoversEveryCall(t *testing.T) {
	_, stmts := loadPolicy(t)
	granted := map[string]statement{}
	for _, st := range stmts {
		for _, a := range st.Action {
			granted[a] = st
		}
	}
	calls := append(operations[bridgeaws.IAM]("iam"), operations[bridgeaws.SageMaker]("sagemaker")...)
	for _, op := range calls {
		if _, ok := granted[op]; !ok {
			t.Errorf("%s: the bridge calls it (internal/aws), the policy does not allow it", op)
		}
	}
	// Least privilege the other way: nothing the bridge does not need.
	for a := range granted {
		if !slices.Contains(calls, a) {
			if _, ok := dependent[a]; !ok {
				t.Errorf("%s: allowed, but internal/aws has no such call; remove it or say in dependent why AWS needs it", a)
			}
		}
	}
}

var placeholderRe = regexp.MustCompile(`\$\{(\w+)\}`)

func TestIAMPolicyIsLeastPrivilege(t *testing.T) {
	raw, stmts := loadPolicy(t)
	sids := map[string]bool{}
	for _, st := range stmts {
		if st.Sid == "" || sids[st.Sid] {
			t.Errorf("Sid %q empty or repeated", st.Sid)
		}
		sids[st.Sid] = true
		if st.Effect != "Allow" {
			t.Errorf("%s: Effect %q", st.Sid, st.Effect)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %s", st.Sid, a)
			}
			if slices.Contains(st.Resource, "*") != slices.Contains(noResourceLevel, a) {
				t.Errorf("%s: %s on %q: only %v take Resource \"*\", and those only", st.Sid, a, st.Resource, noResourceLevel)
			}
			if !isRead(a) && !slices.Contains(untaggable, a) && !ownershipCondition(st) {
				t.Errorf("%s: %s writes without a condition on the ownership tag", st.Sid, a)
			}
		}
	}
	pass := findStatement(stmts, "iam:PassRole")
	if got := pass.Condition["StringEquals"]["iam:PassedToService"]; !slices.Equal(got, stringList{"sagemaker.amazonaws.com"}) {
		t.Errorf("iam:PassRole: iam:PassedToService %q, want only sagemaker.amazonaws.com", got)
	}

	used := map[string]bool{}
	for _, m := range placeholderRe.FindAllSubmatch(raw, -1) {
		used[string(m[1])] = true
	}
	for p := range used {
		if _, ok := placeholders[p]; !ok {
			t.Errorf("placeholder ${%s} is not one the prerequisites document", p)
		}
	}
	for p := range placeholders {
		if !used[p] {
			t.Errorf("placeholder ${%s} is documented but unused", p)
		}
	}
	// A customer managed policy holds at most 6,144 characters, white
	// space not counted.
	filled := placeholderRe.ReplaceAllFunc(raw, func(m []byte) []byte {
		return []byte(placeholders[string(m[2:len(m)-1])])
	})
	n := 0
	for _, r := range string(filled) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	if n > 6144 {
		t.Errorf("%d characters without white space; IAM allows 6,144 in a managed policy", n)
	}
}

func TestPrerequisitesExplainEveryPlaceholder(t *testing.T) {
	doc, err := os.ReadFile(prerequisitesFile)
	if err != nil {
		t.Fatal(err)
	}
	for p := range placeholders {
		if !bytes.Contains(doc, []byte("${"+p+"}")) {
			t.Errorf("%s does not explain ${%s}", prerequisitesFile, p)
		}
	}
}

func isRead(action string) bool {
	_, op, _ := strings.Cut(action, ":")
	return strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Describe")
}

// ownershipCondition reports whether st requires the ownership tag on the
// request or on the resource.
func ownershipCondition(st statement) bool {
	eq := st.Condition["StringEquals"]
	want := stringList{"${OwnershipTagValue}"}
	return slices.Equal(eq["aws:RequestTag/${OwnershipTagKey}"], want) ||
		slices.Equal(eq["aws:ResourceTag/${OwnershipTagKey}"], want)
}

func findStatement(stmts []statement, action string) statement {
	for _, st := range stmts {
		if slices.Contains(st.Action, action) {
			return st
		}
	}
	return statement{}
}
