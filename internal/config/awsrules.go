package config

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AWS naming rules. They live here, in the leaf package, because both the
// configuration check (for names written in the file) and internal/mapping
// (for names that only exist at run time, such as a team discovered from a
// group) must apply exactly the same rule. Sources are in
// shared/docs/reference/aws-sync-semantics.md and aws-saml-requirements.md.
const (
	MaxRoleNameLen     = 64  // IAM roleNameType
	MaxPathLen         = 512 // IAM pathType
	MaxPolicyNameLen   = 128 // IAM policyNameType
	MaxTagKeyLen       = 128 // IAM/STS tagKeyType
	MaxTagValueLen     = 256 // IAM/STS tagValueType
	MaxTags            = 50  // per role, per profile, per session
	MaxProfileNameLen  = 63  // SageMaker UserProfileName
	MaxSessionNameLen  = 64  // STS roleSessionNameType, sourceIdentityType
	MinSessionNameLen  = 2
	MaxTeamNameLen     = 64
	MinSessionDuration = 900   // SAML SessionDuration, seconds
	MaxSessionDuration = 43200 // SAML SessionDuration and role MaxSessionDuration
	MinRoleMaxSession  = 3600  // role MaxSessionDuration floor (UpdateRole)
	MaxInlinePolicies  = 10240 // all inline policies of one role, non-whitespace characters
)

// Partitions the bridge knows how to name ARNs and regions in.
var Partitions = []string{"aws", "aws-us-gov", "aws-cn"}

var (
	awsWordRe  = regexp.MustCompile(`^[\w+=,.@-]+$`)
	teamNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	pathRe     = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
	accountRe  = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	domainIDRe = regexp.MustCompile(`^d-(-*[a-z0-9]){1,61}$`)
	samlNameRe = regexp.MustCompile(`^[\w._-]{1,128}$`)
	// policyARNRe accepts AWS managed policies (account "aws") and customer
	// managed ones; the partition is checked separately so that the message
	// can name the configured one.
	policyARNRe = regexp.MustCompile(`^arn:([a-z-]+):iam::(aws|[0-9]{12}):policy/([\x21-\x7E]*/)?[\w+=,.@-]{1,128}$`)
)

// CheckRoleName applies IAM's role name rule: 1-64 characters of
// [A-Za-z0-9_+=,.@-].
func CheckRoleName(s string) error {
	return checkWord(s, MaxRoleNameLen)
}

// CheckPolicyName applies IAM's inline policy name rule.
func CheckPolicyName(s string) error {
	return checkWord(s, MaxPolicyNameLen)
}

func checkWord(s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case len(s) > max:
		return fmt.Errorf("%q is %d characters; IAM allows at most %d", s, len(s), max)
	case !awsWordRe.MatchString(s):
		return fmt.Errorf("%q may hold only letters, digits and _+=,.@- (IAM name rule)", s)
	}
	return nil
}

// CheckPath applies IAM's path rule: "/" or "/.../", printable ASCII, at
// most 512 characters.
func CheckPath(s string) error {
	if len(s) > MaxPathLen {
		return fmt.Errorf("%q is %d characters; IAM allows at most %d", s, len(s), MaxPathLen)
	}
	if !pathRe.MatchString(s) {
		return fmt.Errorf("%q must be \"/\" or start and end with \"/\" (printable ASCII, no spaces), such as /sagebridge/", s)
	}
	return nil
}

// CheckTeamName is the bridge's own rule for team names. A team name is
// put into role names, paths and tag values, so it takes the characters
// all of them accept, and must start with a letter or digit.
func CheckTeamName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case len(s) > MaxTeamNameLen:
		return fmt.Errorf("%q is %d characters; at most %d", s, len(s), MaxTeamNameLen)
	case !teamNameRe.MatchString(s):
		return fmt.Errorf("%q must start with a letter or digit and hold only letters, digits and _.- (it becomes part of IAM role names and tag values)", s)
	}
	return nil
}

// CheckTagKey applies the IAM/STS tag key rule (TAG-1): 1-128 characters
// of letters, digits, spaces and _.:/=+-@, not starting with "aws:".
func CheckTagKey(s string) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return fmt.Errorf("a tag key must not be empty")
	case n > MaxTagKeyLen:
		return fmt.Errorf("tag key %q is %d characters; AWS allows at most %d", s, n, MaxTagKeyLen)
	case strings.HasPrefix(strings.ToLower(s), "aws:"):
		return fmt.Errorf("tag key %q starts with \"aws:\", which AWS reserves", s)
	}
	if r, ok := badTagRune(s); ok {
		return fmt.Errorf("tag key %q holds %q; AWS allows letters, digits, spaces and _.:/=+-@", s, r)
	}
	return nil
}

// CheckTagValue applies the IAM/STS tag value rule (TAG-2): 0-256
// characters of the tag key alphabet.
func CheckTagValue(s string) error {
	if n := utf8.RuneCountInString(s); n > MaxTagValueLen {
		return fmt.Errorf("tag value is %d characters; AWS allows at most %d", n, MaxTagValueLen)
	}
	if r, ok := badTagRune(s); ok {
		return fmt.Errorf("tag value %q holds %q; AWS allows letters, digits, spaces and _.:/=+-@", s, r)
	}
	return nil
}

// badTagRune returns the first rune outside [\p{L}\p{Z}\p{N}_.:/=+\-@].
// A loop, not a regexp: mapping checks every tag value on every sign-in.
func badTagRune(s string) (rune, bool) {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || strings.ContainsRune(" _.:/=+-@", r) {
				continue
			}
			return r, true
		}
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.Is(unicode.Z, r) || unicode.IsNumber(r)) {
			return r, true
		}
	}
	return 0, false
}

// RoleARN names an IAM role. AWS returns the same string from CreateRole;
// sign-in needs it before (or without) asking AWS.
func RoleARN(partition, account, path, name string) string {
	return "arn:" + partition + ":iam::" + account + ":role" + path + name
}

// SAMLProviderARN names an IAM SAML provider.
func SAMLProviderARN(partition, account, name string) string {
	return "arn:" + partition + ":iam::" + account + ":saml-provider/" + name
}

// ExpandTeam fills {team} in a role name or path template.
func ExpandTeam(tmpl, team string) string {
	return strings.ReplaceAll(tmpl, "{team}", team)
}

// ExpandARN fills {partition}, {account} and {team} in a managed policy
// ARN template, so one file serves every partition.
func ExpandARN(tmpl, partition, account, team string) string {
	return strings.NewReplacer("{partition}", partition, "{account}", account, "{team}", team).Replace(tmpl)
}

var placeholderRe = regexp.MustCompile(`\{[A-Za-z]*\}`)

// unknownPlaceholders lists {words} in tmpl that are not in known, so that
// a typo such as {teams} is reported instead of reaching AWS verbatim.
func unknownPlaceholders(tmpl string, known ...string) []string {
	var bad []string
	for _, p := range placeholderRe.FindAllString(tmpl, -1) {
		ok := false
		for _, k := range known {
			ok = ok || p == "{"+k+"}"
		}
		if !ok {
			bad = append(bad, p)
		}
	}
	return bad
}
