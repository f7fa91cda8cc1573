package awsemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// policyKind selects the grammar a policy document is checked against: a
// role's trust policy names principals and no resources; an identity
// (inline) policy names resources and no principal.
type policyKind int

const (
	trustPolicy policyKind = iota
	identityPolicy
)

// rePolicyChars is the model's policyDocumentType pattern: tab, newline,
// carriage return and U+0020–U+00FF (reference rule 12).
var rePolicyChars = regexp.MustCompile(`^[\t\n\r\x20-\x{FF}]+$`)

var (
	reAction = regexp.MustCompile(`^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$`)
	reSid    = regexp.MustCompile(`^[A-Za-z0-9]*$`)
)

// checkPolicy validates a policy document as IAM does and returns the form
// IAM stores and returns: keys sorted, whitespace dropped and single-element
// string arrays collapsed to the string (reference rule 4), so a client that
// compares text instead of parsed policies never converges.
func checkPolicy(param, doc string, kind policyKind) (string, error) {
	if err := validateString(serviceIAM, param, doc, 1, 131072, nil); err != nil {
		return "", err
	}
	if !rePolicyChars.MatchString(doc) {
		return "", constraintErr(serviceIAM, param, doc, `Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", malformed("Syntax errors in policy.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", malformed("Syntax errors in policy.")
	}
	top, ok := v.(map[string]any)
	if !ok {
		return "", malformed("Syntax errors in policy.")
	}
	if err := checkPolicyGrammar(top, kind); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(collapse(top)); err != nil {
		return "", malformed("Syntax errors in policy.")
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func malformed(msg string) error { return iamErr("MalformedPolicyDocument", "%s", msg) }

func checkPolicyGrammar(top map[string]any, kind policyKind) error {
	for k := range top {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return malformed("Syntax errors in policy.")
		}
	}
	if ver, ok := top["Version"]; ok && ver != "2012-10-17" && ver != "2008-10-17" {
		return malformed("The policy failed legacy parsing")
	}
	var stmts []any
	switch s := top["Statement"].(type) {
	case map[string]any:
		stmts = []any{s}
	case []any:
		stmts = s
	default:
		return malformed("Syntax errors in policy.")
	}
	if len(stmts) == 0 {
		return malformed("Syntax errors in policy.")
	}
	for _, s := range stmts {
		st, ok := s.(map[string]any)
		if !ok {
			return malformed("Syntax errors in policy.")
		}
		if err := checkStatement(st, kind); err != nil {
			return err
		}
	}
	return nil
}

func checkStatement(st map[string]any, kind policyKind) error {
	for k := range st {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return malformed("Syntax errors in policy.")
		}
	}
	if sid, ok := st["Sid"]; ok {
		s, isStr := sid.(string)
		if !isStr || (kind == identityPolicy && !reSid.MatchString(s)) {
			return malformed("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
		}
	}
	switch st["Effect"] {
	case "Allow", "Deny":
	case nil:
		return malformed("Missing required field Effect")
	default:
		return malformed("Invalid effect: " + asText(st["Effect"]))
	}
	actions, err := statementStrings(st, "Action", "NotAction")
	if err != nil {
		return err
	}
	if actions == nil {
		return malformed("Policy statement must contain actions.")
	}
	for _, a := range actions {
		if !reAction.MatchString(a) {
			return malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
		if kind == trustPolicy && !strings.HasPrefix(strings.ToLower(a), "sts:") {
			return malformed("AssumeRole policy may only specify STS AssumeRole actions.")
		}
	}
	_, hasP := st["Principal"]
	_, hasNP := st["NotPrincipal"]
	resources, err := statementStrings(st, "Resource", "NotResource")
	if err != nil {
		return err
	}
	switch kind {
	case trustPolicy:
		if !hasP && !hasNP {
			return malformed("Missing required field Principal")
		}
		if resources != nil {
			return malformed("Has prohibited field Resource")
		}
	case identityPolicy:
		if hasP || hasNP {
			return malformed("Policy document should not specify a principal.")
		}
		if resources == nil {
			return malformed("Policy statement must contain resources.")
		}
	}
	for _, r := range resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return malformed("Resource " + r + " must be in ARN format or \"*\".")
		}
	}
	for _, k := range []string{"Principal", "NotPrincipal"} {
		if p, ok := st[k]; ok {
			if err := checkPrincipal(p); err != nil {
				return err
			}
		}
	}
	if c, ok := st["Condition"]; ok {
		return checkCondition(c)
	}
	return nil
}

// statementStrings returns the strings of whichever of the two exclusive
// fields is present, nil when neither is.
func statementStrings(st map[string]any, field, notField string) ([]string, error) {
	v, has := st[field]
	nv, hasNot := st[notField]
	if has && hasNot {
		return nil, malformed("Syntax errors in policy.")
	}
	if hasNot {
		v = nv
	}
	if !has && !hasNot {
		return nil, nil
	}
	ss, ok := stringOrList(v)
	if !ok || len(ss) == 0 {
		return nil, malformed("Syntax errors in policy.")
	}
	return ss, nil
}

func stringOrList(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func checkPrincipal(p any) error {
	if p == "*" {
		return nil
	}
	m, ok := p.(map[string]any)
	if !ok || len(m) == 0 {
		return malformed("Invalid principal in policy: " + asText(p))
	}
	for k, v := range m {
		switch k {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return malformed("Invalid principal in policy: " + asText(p))
		}
		ss, ok := stringOrList(v)
		if !ok || len(ss) == 0 {
			return malformed("Invalid principal in policy: " + asText(p))
		}
		for _, s := range ss {
			if s == "" {
				return malformed("Invalid principal in policy: " + asText(p))
			}
		}
	}
	return nil
}

func checkCondition(c any) error {
	ops, ok := c.(map[string]any)
	if !ok {
		return malformed("Syntax errors in policy.")
	}
	for _, keys := range ops {
		km, ok := keys.(map[string]any)
		if !ok {
			return malformed("Syntax errors in policy.")
		}
		for _, v := range km {
			switch x := v.(type) {
			case string, bool, json.Number:
			case []any:
				for _, e := range x {
					switch e.(type) {
					case string, bool, json.Number:
					default:
						return malformed("Syntax errors in policy.")
					}
				}
			default:
				return malformed("Syntax errors in policy.")
			}
		}
	}
	return nil
}

func asText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// collapse rewrites ["x"] as "x" at every depth: IAM returns equal but not
// identical documents (reference rule 4).
func collapse(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = collapse(e)
		}
		return out
	case []any:
		if len(x) == 1 {
			if s, ok := x[0].(string); ok {
				return s
			}
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = collapse(e)
		}
		return out
	}
	return v
}

// policySize counts what IAM's size quotas count: characters other than
// white space.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// encodePolicy is how IAM returns a document: URL-encoded per RFC 3986
// (reference rule 3), so "+" stays distinguishable from a space.
func encodePolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// trustsSageMaker reports whether a trust policy lets SageMaker assume the
// role, which SageMaker checks before accepting an ExecutionRole.
func trustsSageMaker(doc string) bool {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(p.Statement, &stmts) != nil {
		var one map[string]any
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		stmts = []map[string]any{one}
	}
	for _, st := range stmts {
		if st["Effect"] != "Allow" {
			continue
		}
		actions, _ := stringOrList(st["Action"])
		principal, _ := st["Principal"].(map[string]any)
		services, _ := stringOrList(principal["Service"])
		if containsFold(actions, "sts:AssumeRole") && containsFold(services, "sagemaker.amazonaws.com") {
			return true
		}
	}
	return false
}

func containsFold(ss []string, want string) bool {
	for _, s := range ss {
		if strings.EqualFold(s, want) {
			return true
		}
	}
	return false
}
