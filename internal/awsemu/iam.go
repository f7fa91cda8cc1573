package awsemu

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// iamOps are the IAM actions the emulator implements.
var iamOps = map[string]func(*Emulator, form) (any, error){
	"CreateRole":               (*Emulator).createRole,
	"GetRole":                  (*Emulator).getRole,
	"UpdateRole":               (*Emulator).updateRole,
	"DeleteRole":               (*Emulator).deleteRole,
	"UpdateAssumeRolePolicy":   (*Emulator).updateAssumeRolePolicy,
	"TagRole":                  (*Emulator).tagRole,
	"UntagRole":                (*Emulator).untagRole,
	"ListRoleTags":             (*Emulator).listRoleTags,
	"ListRoles":                (*Emulator).listRoles,
	"PutRolePolicy":            (*Emulator).putRolePolicy,
	"GetRolePolicy":            (*Emulator).getRolePolicy,
	"DeleteRolePolicy":         (*Emulator).deleteRolePolicy,
	"ListRolePolicies":         (*Emulator).listRolePolicies,
	"AttachRolePolicy":         (*Emulator).attachRolePolicy,
	"DetachRolePolicy":         (*Emulator).detachRolePolicy,
	"ListAttachedRolePolicies": (*Emulator).listAttachedRolePolicies,
	"CreateSAMLProvider":       (*Emulator).createSAMLProvider,
	"GetSAMLProvider":          (*Emulator).getSAMLProvider,
	"UpdateSAMLProvider":       (*Emulator).updateSAMLProvider,
	"DeleteSAMLProvider":       (*Emulator).deleteSAMLProvider,
	"ListSAMLProviders":        (*Emulator).listSAMLProviders,
	"TagSAMLProvider":          (*Emulator).tagSAMLProvider,
	"UntagSAMLProvider":        (*Emulator).untagSAMLProvider,
	"ListSAMLProviderTags":     (*Emulator).listSAMLProviderTags,
	"GetAccountSummary":        (*Emulator).getAccountSummary,
}

type iamState struct {
	roles    map[string]*role // by lower-cased name: names are unique regardless of case
	roleKeys []string         // the keys of roles, sorted, for ListRoles
	saml     map[string]*samlProvider
}

func (s *iamState) init() {
	s.roles = map[string]*role{}
	s.saml = map[string]*samlProvider{}
}

// form is the parameters of one awsQuery request.
type form struct{ v url.Values }

// str returns a parameter and whether it was sent.
func (f form) str(name string) (string, bool) {
	vs, ok := f.v[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// required returns a parameter the model marks required. The SDK checks
// these client-side, so this answers only hand-made requests.
func (f form) required(name string) (string, error) {
	s, ok := f.str(name)
	if !ok {
		return "", iamErr("ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return s, nil
}

// intParam returns an integer parameter, or ok=false when absent.
func (f form) intParam(name string) (n int, ok bool, err error) {
	s, ok := f.str(name)
	if !ok {
		return 0, false, nil
	}
	n, err = strconv.Atoi(s)
	if err != nil {
		return 0, false, iamErr("ValidationError", "Invalid value '%s' for parameter %s", s, name)
	}
	return n, true, nil
}

// members returns the indexed members of a list parameter in index order:
// NAME.member.1, NAME.member.2, … (or, with a suffix, NAME.member.N.SUFFIX).
func (f form) members(name string) map[int]map[string]string {
	prefix := name + ".member."
	out := map[int]map[string]string{}
	for k, vs := range f.v {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || len(vs) == 0 {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			continue
		}
		if out[n] == nil {
			out[n] = map[string]string{}
		}
		out[n][field] = vs[0]
	}
	return out
}

func sortedIndexes(m map[int]map[string]string) []int {
	idx := make([]int, 0, len(m))
	for n := range m {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	return idx
}

// stringList reads NAME.member.N.
func (f form) stringList(name string) []string {
	m := f.members(name)
	var out []string
	for _, n := range sortedIndexes(m) {
		out = append(out, m[n][""])
	}
	return out
}

// tagList reads NAME.member.N.Key / .Value.
func (f form) tagList(name string) []Tag {
	m := f.members(name)
	var out []Tag
	for _, n := range sortedIndexes(m) {
		out = append(out, Tag{Key: m[n]["Key"], Value: m[n]["Value"]})
	}
	return out
}

// paging reads Marker and MaxItems (1–1000, default 100; reference rule 15)
// and applies the emulator's page cap.
func (e *Emulator) iamPaging(f form) (after string, limit int, err error) {
	limit, ok, err := f.intParam("MaxItems")
	if err != nil {
		return "", 0, err
	}
	if !ok {
		limit = 100
	}
	if limit < 1 || limit > 1000 {
		return "", 0, rangeErr(serviceIAM, "maxItems", strconv.Itoa(limit), 1, 1000)
	}
	if c := e.opts.IAMPageCap; c > 0 && limit > c {
		limit = c
	}
	if m, ok := f.str("Marker"); ok {
		after, err = decodeCursor(m)
		if err != nil {
			return "", 0, iamErr("ValidationError", "Invalid Marker")
		}
	}
	return after, limit, nil
}

// Markers and next tokens are opaque: the base64 of the last key returned,
// so a page boundary survives inserts and deletes between pages.
func encodeCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + key))
}

func decodeCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", err
	}
	key, ok := strings.CutPrefix(string(b), "v1:")
	if !ok {
		return "", fmt.Errorf("bad cursor")
	}
	return key, nil
}

// pageAfter returns up to limit items of keys-sorted items that come after
// the key after, and the cursor of the next page ("" on the last page).
func pageAfter[T any](items []T, key func(T) string, after string, limit int) ([]T, string) {
	start := 0
	if after != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	if end < len(items) && len(page) > 0 {
		return page, encodeCursor(key(page[len(page)-1]))
	}
	return page, ""
}

// Server-side validation: the Go SDK checks only required members (reference
// rule 7), so lengths and patterns are checked here, with AWS's wording.
var (
	reRoleName    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	rePath        = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	rePathPrefix  = regexp.MustCompile(`^/[\x21-\x7F]*$`)
	reDescription = regexp.MustCompile(`^[\t\n\r\x20-\x7E\x{A1}-\x{FF}]*$`)
	reSAMLName    = regexp.MustCompile(`^[\w._-]+$`)
)

func validateString(service, param, value string, minLen, maxLen int, re *regexp.Regexp) error {
	n := utf8.RuneCountInString(value)
	if n < minLen {
		return constraintErr(service, param, value, fmt.Sprintf("Member must have length greater than or equal to %d", minLen))
	}
	if n > maxLen {
		return constraintErr(service, param, value, fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	}
	if re != nil && !re.MatchString(value) {
		return constraintErr(service, param, value, "Member must satisfy regular expression pattern: "+strings.Trim(re.String(), "^$"))
	}
	return nil
}

func rangeErr(service, param, value string, lo, hi int) error {
	return constraintErr(service, param, value, fmt.Sprintf("Member must have value between %d and %d", lo, hi))
}

func constraintErr(service, param, value, constraint string) error {
	const f = "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s"
	if service == serviceIAM {
		return iamErr("ValidationError", f, value, param, constraint)
	}
	return smErr("ValidationException", f, value, param, constraint)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// iamTime is IAM's timestamp format (ISO 8601, UTC, seconds).
func iamTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// xmlTag and the other xml* types are the awsQuery response shapes.
type xmlTag struct {
	Key   string
	Value string
}

func xmlTags(tags []Tag) []xmlTag {
	out := make([]xmlTag, len(tags))
	for i, t := range tags {
		out[i] = xmlTag(t)
	}
	return out
}

// xmlTagList is an optional Tags element. encoding/xml writes the parent of
// an "a>b" path even for an empty slice, so optional lists need a pointer.
type xmlTagList struct {
	Member []xmlTag `xml:"member"`
}

func optionalTags(tags []Tag) *xmlTagList {
	if len(tags) == 0 {
		return nil
	}
	return &xmlTagList{xmlTags(tags)}
}

type xmlSummaryEntry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

// getAccountSummary reports the quotas, so a client can read the live
// values as the reference recommends (rule 11).
func (e *Emulator) getAccountSummary(form) (any, error) {
	q := e.opts.Quotas
	entries := []xmlSummaryEntry{
		{"AssumeRolePolicySizeQuota", q.AssumeRolePolicySize},
		{"AttachedPoliciesPerRoleQuota", q.AttachedPoliciesPerRole},
		{"RolePolicySizeQuota", q.RolePolicySize},
		{"Roles", len(e.iam.roles)},
		{"RolesQuota", q.Roles},
		{"Providers", len(e.iam.saml)},
	}
	return struct {
		SummaryMap []xmlSummaryEntry `xml:"SummaryMap>entry"`
	}{entries}, nil
}
