package awsemu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Statuses of profiles (reference rule 21), apps and spaces (model
// AppStatus, SpaceStatus); only apps reach Deleted, the others vanish.
const (
	StatusDeleted      = "Deleted"
	StatusPending      = "Pending"
	StatusInService    = "InService"
	StatusUpdating     = "Updating"
	StatusDeleting     = "Deleting"
	StatusFailed       = "Failed"
	StatusUpdateFailed = "Update_Failed"
	StatusDeleteFailed = "Delete_Failed"
)

type profile struct {
	domain, name, arn string
	seq               uint64
	status, failure   string
	settings          map[string]json.RawMessage // UserSettings as sent, merged by updates
	created, modified time.Time
	prog              progress
	homeUID           string
}

type userSettingsInput struct {
	DomainId        *string
	UserProfileName *string
	UserSettings    map[string]json.RawMessage
	Tags            []Tag
}

// executionRole returns UserSettings.ExecutionRole, "" when unset.
func executionRole(settings map[string]json.RawMessage) (string, error) {
	raw, ok := settings["ExecutionRole"]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", smErr("SerializationException", "UserSettings.ExecutionRole must be a string")
	}
	return s, nil
}

// checkExecutionRole refuses a role SageMaker cannot assume: one that does
// not exist, has not propagated yet (reference rule 18), or whose trust
// policy (as SageMaker sees it) does not let sagemaker.amazonaws.com assume
// it. Roles of other accounts are beyond the emulator and accepted.
func (e *Emulator) checkExecutionRole(arn string) error {
	if err := validateString(serviceSageMaker, "userSettings.executionRole", arn, 20, 2048, reRoleARN); err != nil {
		return err
	}
	m := reRoleARN.FindStringSubmatch(arn)
	if m[1] != e.opts.AccountID {
		return nil
	}
	invalid := smErr("ValidationException", "The execution role ARN %q is invalid. Please ensure that the role exists and that its trust relationship policy allows the action 'sts:AssumeRole' for the service principal 'sagemaker.amazonaws.com'.", arn)
	r, ok := e.iam.roles[strings.ToLower(arn[strings.LastIndex(arn, "/")+1:])]
	if !ok || !strings.EqualFold(r.arn, arn) {
		return invalid
	}
	trust, visible := r.seenBySageMaker(e.now())
	if !visible || !trustsSageMaker(trust) {
		return invalid
	}
	return nil
}

func (e *Emulator) profileARN(domainID, name string) string {
	// SageMaker lowercases profile ARNs (reference rule 20).
	return strings.ToLower(fmt.Sprintf("arn:aws:sagemaker:%s:%s:user-profile/%s/%s", e.opts.Region, e.opts.AccountID, domainID, name))
}

func (e *Emulator) createUserProfile(body []byte) (any, error) {
	var in userSettingsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	domainID, err := domainIDFrom("domainId", in.DomainId)
	if err != nil {
		return nil, err
	}
	name, err := nameFrom("userProfileName", in.UserProfileName)
	if err != nil {
		return nil, err
	}
	if err := validateTags(serviceSageMaker, in.Tags, false); err != nil {
		return nil, err
	}
	if _, ok := e.sm.domains[domainID]; !ok {
		return nil, smErr("ResourceNotFound", "Domain %s does not exist.", domainID)
	}
	role, err := executionRole(in.UserSettings)
	if err != nil {
		return nil, err
	}
	arn := e.profileARN(domainID, name)
	if _, taken := e.sm.byARN[arn]; taken {
		return nil, smErr("ResourceInUse", "Resource Already Exists: UserProfile with name %s already exists. Choose a different name.", name)
	}
	if q := e.opts.Quotas.UserProfilesPerDomain; q > 0 && e.profilesIn(domainID) >= q {
		return nil, smErr("ResourceLimitExceeded", "The account-level service limit 'Maximum number of user profiles per domain' is %d.", q)
	}
	if role != "" {
		if err := e.checkExecutionRole(role); err != nil {
			return nil, err
		}
	}
	now := e.now()
	e.sm.seq++
	p := &profile{
		domain: domainID, name: name, arn: arn, seq: e.sm.seq, status: StatusPending,
		settings: in.UserSettings, created: now, modified: now,
		prog: newProgress(e.opts.Async, now), homeUID: fmt.Sprint(200000 + e.sm.seq),
	}
	e.sm.profiles[profileKey{domainID, name}] = p
	e.sm.byARN[arn] = p
	e.sm.order = append(e.sm.order, p)
	e.sm.tags[arn] = in.Tags
	return struct{ UserProfileArn string }{arn}, nil
}

func (e *Emulator) profilesIn(domainID string) int {
	n := 0
	for k := range e.sm.profiles {
		if k.domain == domainID {
			n++
		}
	}
	return n
}

// observeProfile advances a profile's transitional state and reports
// whether it still exists.
func (e *Emulator) observeProfile(p *profile) bool {
	switch p.status {
	case StatusPending, StatusUpdating:
		if p.prog.observe(e.now()) {
			p.status = StatusInService
			p.modified = e.now()
		}
	case StatusDeleting:
		if p.prog.observe(e.now()) {
			e.removeProfile(p)
			return false
		}
	}
	return true
}

func (e *Emulator) removeProfile(p *profile) {
	delete(e.sm.profiles, profileKey{p.domain, p.name})
	delete(e.sm.byARN, p.arn)
	delete(e.sm.tags, p.arn)
	if i, ok := slices.BinarySearchFunc(e.sm.order, p.seq, func(q *profile, s uint64) int { return cmp.Compare(q.seq, s) }); ok {
		e.sm.order = slices.Delete(e.sm.order, i, i+1)
	}
}

// profileFor returns the profile a request names, observed.
func (e *Emulator) profileFor(in userSettingsInput) (*profile, error) {
	domainID, err := domainIDFrom("domainId", in.DomainId)
	if err != nil {
		return nil, err
	}
	name, err := nameFrom("userProfileName", in.UserProfileName)
	if err != nil {
		return nil, err
	}
	p, ok := e.sm.profiles[profileKey{domainID, name}]
	if !ok || !e.observeProfile(p) {
		return nil, smErr("ResourceNotFound", "UserProfile [%s] does not exist.", e.profileARN(domainID, name))
	}
	return p, nil
}

func (e *Emulator) describeUserProfile(body []byte) (any, error) {
	var in userSettingsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	p, err := e.profileFor(in)
	if err != nil {
		return nil, err
	}
	return struct {
		DomainId, UserProfileArn, UserProfileName, HomeEfsFileSystemUid, Status string
		FailureReason                                                           string `json:",omitempty"`
		CreationTime, LastModifiedTime                                          epoch
		UserSettings                                                            map[string]json.RawMessage `json:",omitempty"`
	}{
		DomainId: p.domain, UserProfileArn: p.arn, UserProfileName: p.name, HomeEfsFileSystemUid: p.homeUID,
		Status: p.status, FailureReason: p.failure,
		CreationTime: epoch(p.created), LastModifiedTime: epoch(p.modified), UserSettings: p.settings,
	}, nil
}

// updateUserProfile merges the UserSettings members it is given into the
// profile's (members not sent are kept) and goes Updating -> InService. A
// profile that is not settled is ResourceInUse (reference rules 22, 23).
func (e *Emulator) updateUserProfile(body []byte) (any, error) {
	var in userSettingsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	p, err := e.profileFor(in)
	if err != nil {
		return nil, err
	}
	switch p.status {
	case StatusInService, StatusFailed, StatusUpdateFailed:
	default:
		return nil, smErr("ResourceInUse", "Cannot update UserProfile [%s] while it is in status %s.", p.arn, p.status)
	}
	role, err := executionRole(in.UserSettings)
	if err != nil {
		return nil, err
	}
	if role != "" {
		if err := e.checkExecutionRole(role); err != nil {
			return nil, err
		}
	}
	if len(in.UserSettings) > 0 {
		merged := make(map[string]json.RawMessage, len(p.settings)+len(in.UserSettings))
		for k, v := range p.settings {
			merged[k] = v
		}
		for k, v := range in.UserSettings {
			merged[k] = v
		}
		p.settings = merged
	}
	p.status, p.failure = StatusUpdating, ""
	p.modified = e.now()
	p.prog = newProgress(e.opts.Async, p.modified)
	return struct{ UserProfileArn string }{p.arn}, nil
}

// deleteUserProfile refuses while the profile has apps that are not Deleted
// or Failed, or owns spaces (reference rule 26), then goes Deleting -> gone.
func (e *Emulator) deleteUserProfile(body []byte) (any, error) {
	var in userSettingsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	p, err := e.profileFor(in)
	if err != nil {
		return nil, err
	}
	switch p.status {
	case StatusInService, StatusFailed, StatusUpdateFailed, StatusDeleteFailed:
	default:
		return nil, smErr("ResourceInUse", "Cannot delete UserProfile [%s] while it is in status %s.", p.arn, p.status)
	}
	for _, a := range e.sm.apps {
		if a.domain == p.domain && a.profile == p.name && a.blocks() {
			return nil, smErr("ResourceInUse", "Unable to delete UserProfile [%s] because App(s) are associated with it", p.arn)
		}
	}
	for _, s := range e.sm.spaceSeq {
		if s.domain == p.domain && s.owner == p.name {
			return nil, smErr("ResourceInUse", "Unable to delete UserProfile [%s] because Space(s) are associated with it", p.arn)
		}
	}
	p.status, p.failure = StatusDeleting, ""
	p.modified = e.now()
	p.prog = newProgress(e.opts.Async, p.modified)
	return struct{}{}, nil
}

// listUserProfiles returns summaries only (no ARN, ExecutionRole or tags)
// with a default page of 10 (reference rule 25).
func (e *Emulator) listUserProfiles(body []byte) (any, error) {
	var in struct {
		DomainIdEquals          *string
		UserProfileNameContains *string
		listRequest
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.DomainIdEquals != nil {
		if _, err := domainIDFrom("domainIdEquals", in.DomainIdEquals); err != nil {
			return nil, err
		}
	}
	limit, after, desc, err := in.params()
	if err != nil {
		return nil, err
	}
	contains := ""
	if in.UserProfileNameContains != nil {
		contains = strings.ToLower(*in.UserProfileNameContains)
	}
	page, next, err := pageBySeq(e.sm.order, func(p *profile) uint64 { return p.seq }, func(p *profile) bool {
		return (in.DomainIdEquals == nil || p.domain == *in.DomainIdEquals) && strings.Contains(strings.ToLower(p.name), contains)
	}, desc, after, limit)
	if err != nil {
		return nil, err
	}
	type summary struct {
		DomainId, UserProfileName, Status string
		CreationTime, LastModifiedTime    epoch
	}
	out := struct {
		UserProfiles []summary
		NextToken    string `json:",omitempty"`
	}{UserProfiles: []summary{}, NextToken: next}
	for _, p := range page {
		if !e.observeProfile(p) {
			continue
		}
		out.UserProfiles = append(out.UserProfiles, summary{p.domain, p.name, p.status, epoch(p.created), epoch(p.modified)})
	}
	return out, nil
}

// SetProfileStatus forces a profile into a status, with a failure reason,
// for tests of how clients handle Failed, Update_Failed and Delete_Failed.
func (e *Emulator) SetProfileStatus(domainID, name, status, reason string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.sm.profiles[profileKey{domainID, name}]
	if !ok {
		return fmt.Errorf("awsemu: no profile %s/%s", domainID, name)
	}
	p.status, p.failure = status, reason
	p.prog = newProgress(e.opts.Async, e.now())
	return nil
}
