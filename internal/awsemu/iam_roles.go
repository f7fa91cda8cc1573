package awsemu

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type role struct {
	name, path, id, arn string
	trust               string // canonical (decoded) trust policy
	description         string
	maxSession          int
	boundary            string
	tags                []Tag
	inline              map[string]string // policy name -> canonical document
	attached            []string          // managed policy ARNs, sorted
	created             time.Time

	// What SageMaker sees of the trust policy lags behind IAM (reference
	// rule 18): "" until the role has propagated, then the trust policy as
	// of the last completed propagation.
	propagated  string
	propagating bool
	propagation progress
}

// seenBySageMaker returns the trust policy SageMaker sees, observing the
// propagation, and false while the role is not visible to it at all.
func (r *role) seenBySageMaker(now time.Time) (string, bool) {
	if r.propagating && r.propagation.observe(now) {
		r.propagated = r.trust
		r.propagating = false
	}
	return r.propagated, r.propagated != ""
}

func (e *Emulator) propagate(r *role) {
	r.propagating = true
	r.propagation = newProgress(e.opts.RoleVisibility, e.now())
}

// newID returns an IAM-style unique id: a 4-letter prefix and 17 upper-case
// alphanumerics, derived from a counter so runs are reproducible.
func (e *Emulator) newID(prefix string) string {
	e.idSeq++
	s := strings.ToUpper(strconv.FormatUint(e.idSeq*0x9E3779B97F4A7C15, 36))
	if len(s) < 17 {
		s = strings.Repeat("0", 17-len(s)) + s
	}
	return prefix + s[:17]
}

var rePolicyARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/([\x21-\x7E]+/)*[\w+=,.@-]+$`)

func validatePolicyARN(param, arn string) error {
	if err := validateString(serviceIAM, param, arn, 20, 2048, nil); err != nil {
		return err
	}
	if !rePolicyARN.MatchString(arn) {
		return iamErr("InvalidInput", "ARN %s is not valid.", arn)
	}
	return nil
}

func validateRoleName(name string) error {
	return validateString(serviceIAM, "roleName", name, 1, 64, reRoleName)
}

// roleFor returns the role a request names. Lookups ignore case, as IAM's
// uniqueness does.
func (e *Emulator) roleFor(f form) (*role, error) {
	name, err := f.required("RoleName")
	if err != nil {
		return nil, err
	}
	if err := validateRoleName(name); err != nil {
		return nil, err
	}
	r, ok := e.iam.roles[strings.ToLower(name)]
	if !ok {
		return nil, iamErr("NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return r, nil
}

// trustFrom validates a trust policy parameter against grammar and quota.
func (e *Emulator) trustFrom(f form, param string) (string, error) {
	doc, err := f.required(param)
	if err != nil {
		return "", err
	}
	canon, err := checkPolicy(lowerFirst(param), doc, trustPolicy)
	if err != nil {
		return "", err
	}
	if q := e.opts.Quotas.AssumeRolePolicySize; policySize(doc) > q {
		return "", iamErr("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", q)
	}
	return canon, nil
}

func maxSessionFrom(f form) (int, bool, error) {
	n, ok, err := f.intParam("MaxSessionDuration")
	if err != nil || !ok {
		return 0, ok, err
	}
	if n < 3600 || n > 43200 {
		return 0, false, rangeErr(serviceIAM, "maxSessionDuration", strconv.Itoa(n), 3600, 43200)
	}
	return n, true, nil
}

func descriptionFrom(f form) (string, bool, error) {
	d, ok := f.str("Description")
	if !ok {
		return "", false, nil
	}
	if err := validateString(serviceIAM, "description", d, 0, 1000, reDescription); err != nil {
		return "", false, err
	}
	return d, true, nil
}

func (e *Emulator) createRole(f form) (any, error) {
	name, err := f.required("RoleName")
	if err != nil {
		return nil, err
	}
	if err := validateRoleName(name); err != nil {
		return nil, err
	}
	path, ok := f.str("Path")
	if !ok {
		path = "/"
	}
	if err := validateString(serviceIAM, "path", path, 1, 512, rePath); err != nil {
		return nil, err
	}
	trust, err := e.trustFrom(f, "AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	desc, _, err := descriptionFrom(f)
	if err != nil {
		return nil, err
	}
	maxSession, ok, err := maxSessionFrom(f)
	if err != nil {
		return nil, err
	}
	if !ok {
		maxSession = 3600
	}
	boundary, hasBoundary := f.str("PermissionsBoundary")
	if hasBoundary {
		if err := validatePolicyARN("permissionsBoundary", boundary); err != nil {
			return nil, err
		}
	}
	tags := f.tagList("Tags")
	if err := validateTags(serviceIAM, tags, true); err != nil {
		return nil, err
	}
	key := strings.ToLower(name)
	if _, exists := e.iam.roles[key]; exists {
		return nil, iamErr("EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	if q := e.opts.Quotas.Roles; len(e.iam.roles) >= q {
		return nil, iamErr("LimitExceeded", "Cannot exceed quota for RolesPerAccount: %d", q)
	}
	r := &role{
		name: name, path: path, id: e.newID("AROA"),
		arn:   fmt.Sprintf("arn:aws:iam::%s:role%s%s", e.opts.AccountID, path, name),
		trust: trust, description: desc, maxSession: maxSession, boundary: boundary,
		tags: tags, inline: map[string]string{}, created: e.now(),
	}
	e.propagate(r)
	e.iam.roles[key] = r
	i, _ := slices.BinarySearch(e.iam.roleKeys, key)
	e.iam.roleKeys = slices.Insert(e.iam.roleKeys, i, key)
	return struct{ Role xmlRole }{roleXML(r, true)}, nil
}

func (e *Emulator) getRole(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	return struct{ Role xmlRole }{roleXML(r, true)}, nil
}

// updateRole changes only Description and MaxSessionDuration: name and path
// are immutable (reference rule 10).
func (e *Emulator) updateRole(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	desc, hasDesc, err := descriptionFrom(f)
	if err != nil {
		return nil, err
	}
	maxSession, hasMax, err := maxSessionFrom(f)
	if err != nil {
		return nil, err
	}
	if hasDesc {
		r.description = desc
	}
	if hasMax {
		r.maxSession = maxSession
	}
	return struct{}{}, nil
}

// deleteRole refuses while policies remain (reference rule 14).
func (e *Emulator) deleteRole(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	if len(r.inline) > 0 {
		return nil, iamErr("DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	if len(r.attached) > 0 {
		return nil, iamErr("DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	key := strings.ToLower(r.name)
	delete(e.iam.roles, key)
	if i, ok := slices.BinarySearch(e.iam.roleKeys, key); ok {
		e.iam.roleKeys = slices.Delete(e.iam.roleKeys, i, i+1)
	}
	return nil, nil
}

func (e *Emulator) updateAssumeRolePolicy(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	trust, err := e.trustFrom(f, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	r.trust = trust
	e.propagate(r)
	return nil, nil
}

func (e *Emulator) tagRole(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	tags := f.tagList("Tags")
	if err := validateTags(serviceIAM, tags, true); err != nil {
		return nil, err
	}
	merged := mergeTags(r.tags, tags, true)
	if len(merged) > maxTags {
		return nil, iamErr("LimitExceeded", "Cannot exceed quota for TagsPerRole: %d", maxTags)
	}
	r.tags = merged
	return nil, nil
}

func (e *Emulator) untagRole(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	keys := f.stringList("TagKeys")
	if err := validateTagKeys(serviceIAM, keys); err != nil {
		return nil, err
	}
	r.tags = removeTags(r.tags, keys, true)
	return nil, nil
}

type xmlTagsPage struct {
	Tags        []xmlTag `xml:"Tags>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (e *Emulator) listRoleTags(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	return e.tagsPage(f, r.tags)
}

func (e *Emulator) tagsPage(f form, tags []Tag) (any, error) {
	after, limit, err := e.iamPaging(f)
	if err != nil {
		return nil, err
	}
	page, next := pageAfter(sortedTags(tags, true), func(t Tag) string { return strings.ToLower(t.Key) }, after, limit)
	return xmlTagsPage{Tags: xmlTags(page), IsTruncated: next != "", Marker: next}, nil
}

// listRoles returns summaries: no Tags, PermissionsBoundary or RoleLastUsed
// (reference rule 13).
func (e *Emulator) listRoles(f form) (any, error) {
	prefix, ok := f.str("PathPrefix")
	if ok {
		if err := validateString(serviceIAM, "pathPrefix", prefix, 1, 512, rePathPrefix); err != nil {
			return nil, err
		}
	}
	after, limit, err := e.iamPaging(f)
	if err != nil {
		return nil, err
	}
	var matching []*role
	for _, k := range e.iam.roleKeys {
		if r := e.iam.roles[k]; strings.HasPrefix(r.path, prefix) {
			matching = append(matching, r)
		}
	}
	page, next := pageAfter(matching, func(r *role) string { return strings.ToLower(r.name) }, after, limit)
	out := struct {
		Roles       []xmlRole `xml:"Roles>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{IsTruncated: next != "", Marker: next}
	for _, r := range page {
		out.Roles = append(out.Roles, roleXML(r, false))
	}
	return out, nil
}

type xmlRole struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string       `xml:",omitempty"`
	Description              string       `xml:",omitempty"`
	MaxSessionDuration       int          `xml:",omitempty"`
	PermissionsBoundary      *xmlBoundary `xml:",omitempty"`
	Tags                     *xmlTagList  `xml:",omitempty"`
	RoleLastUsed             *struct{}    `xml:",omitempty"`
}

type xmlBoundary struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

// roleXML renders a role; full adds what GetRole returns beyond ListRoles.
func roleXML(r *role, full bool) xmlRole {
	x := xmlRole{
		Path: r.path, RoleName: r.name, RoleId: r.id, Arn: r.arn,
		CreateDate:               iamTime(r.created),
		AssumeRolePolicyDocument: encodePolicy(r.trust),
		Description:              r.description,
		MaxSessionDuration:       r.maxSession,
	}
	if full {
		x.Tags = optionalTags(r.tags)
		x.RoleLastUsed = &struct{}{}
		if r.boundary != "" {
			x.PermissionsBoundary = &xmlBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.boundary}
		}
	}
	return x
}
