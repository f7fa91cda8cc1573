package awsemu

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

var rePolicyName = regexp.MustCompile(`^[\w+=,.@-]+$`)

func policyNameFrom(f form) (string, error) {
	name, err := f.required("PolicyName")
	if err != nil {
		return "", err
	}
	return name, validateString(serviceIAM, "policyName", name, 1, 128, rePolicyName)
}

// putRolePolicy creates or replaces an inline policy. All inline policies of
// a role share one size quota (reference rule 11).
func (e *Emulator) putRolePolicy(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	name, err := policyNameFrom(f)
	if err != nil {
		return nil, err
	}
	doc, err := f.required("PolicyDocument")
	if err != nil {
		return nil, err
	}
	canon, err := checkPolicy("policyDocument", doc, identityPolicy)
	if err != nil {
		return nil, err
	}
	total := policySize(doc)
	for n, d := range r.inline {
		if n != name {
			total += policySize(d)
		}
	}
	if q := e.opts.Quotas.RolePolicySize; total > q {
		return nil, iamErr("LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", q, r.name)
	}
	r.inline[name] = canon
	return nil, nil
}

func (e *Emulator) inlinePolicyFor(f form) (*role, string, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, "", err
	}
	name, err := policyNameFrom(f)
	if err != nil {
		return nil, "", err
	}
	if _, ok := r.inline[name]; !ok {
		return nil, "", iamErr("NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	return r, name, nil
}

func (e *Emulator) getRolePolicy(f form) (any, error) {
	r, name, err := e.inlinePolicyFor(f)
	if err != nil {
		return nil, err
	}
	return struct {
		RoleName       string
		PolicyName     string
		PolicyDocument string
	}{r.name, name, encodePolicy(r.inline[name])}, nil
}

func (e *Emulator) deleteRolePolicy(f form) (any, error) {
	r, name, err := e.inlinePolicyFor(f)
	if err != nil {
		return nil, err
	}
	delete(r.inline, name)
	return nil, nil
}

func (e *Emulator) listRolePolicies(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	after, limit, err := e.iamPaging(f)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(r.inline))
	for n := range r.inline {
		names = append(names, n)
	}
	sort.Strings(names)
	page, next := pageAfter(names, func(s string) string { return s }, after, limit)
	return struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{page, next != "", next}, nil
}

// attachRolePolicy attaches a managed policy by ARN. The emulator keeps no
// managed policies of its own: any well-formed ARN of AWS's or of the
// account's counts as existing. Attaching twice is a no-op, as in IAM.
func (e *Emulator) attachRolePolicy(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	arn, err := f.required("PolicyArn")
	if err != nil {
		return nil, err
	}
	if err := e.checkManagedPolicy(arn); err != nil {
		return nil, err
	}
	i, found := slices.BinarySearch(r.attached, arn)
	if found {
		return nil, nil
	}
	if q := e.opts.Quotas.AttachedPoliciesPerRole; len(r.attached) >= q {
		return nil, iamErr("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: %d", q)
	}
	r.attached = slices.Insert(r.attached, i, arn)
	return nil, nil
}

func (e *Emulator) checkManagedPolicy(arn string) error {
	if err := validatePolicyARN("policyArn", arn); err != nil {
		return err
	}
	m := rePolicyARN.FindStringSubmatch(arn)
	if m[1] != "aws" && m[1] != e.opts.AccountID {
		return iamErr("NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	return nil
}

func (e *Emulator) detachRolePolicy(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
	arn, err := f.required("PolicyArn")
	if err != nil {
		return nil, err
	}
	if err := validatePolicyARN("policyArn", arn); err != nil {
		return nil, err
	}
	i, found := slices.BinarySearch(r.attached, arn)
	if !found {
		return nil, iamErr("NoSuchEntity", "Policy %s was not found.", arn)
	}
	r.attached = slices.Delete(r.attached, i, i+1)
	return nil, nil
}

type xmlAttachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

func (e *Emulator) listAttachedRolePolicies(f form) (any, error) {
	r, err := e.roleFor(f)
	if err != nil {
		return nil, err
	}
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
	var matching []string
	for _, arn := range r.attached {
		if strings.HasPrefix(policyPath(arn), prefix) {
			matching = append(matching, arn)
		}
	}
	page, next := pageAfter(matching, func(s string) string { return s }, after, limit)
	out := struct {
		AttachedPolicies []xmlAttachedPolicy `xml:"AttachedPolicies>member"`
		IsTruncated      bool
		Marker           string `xml:",omitempty"`
	}{IsTruncated: next != "", Marker: next}
	for _, arn := range page {
		out.AttachedPolicies = append(out.AttachedPolicies, xmlAttachedPolicy{PolicyName: arn[strings.LastIndex(arn, "/")+1:], PolicyArn: arn})
	}
	return out, nil
}

// policyPath returns the path of a managed policy ARN: "/" or "/a/b/".
func policyPath(arn string) string {
	_, rest, _ := strings.Cut(arn, ":policy")
	return rest[:strings.LastIndex(rest, "/")+1]
}
