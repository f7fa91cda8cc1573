package awsemu

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

type app struct {
	domain, profile, space string // exactly one of profile and space is set
	typ, name, arn         string
	seq                    uint64
	status                 string
	created                time.Time
	prog                   progress
}

// blocks reports whether the app keeps its profile or space from being
// deleted: Deleted and Failed apps do not (reference rule 26).
func (a *app) blocks() bool { return a.status != StatusDeleted && a.status != StatusFailed }

type space struct {
	domain, name, arn, owner, sharing string
	seq                               uint64
	status                            string
	created, modified                 time.Time
	prog                              progress
}

// App is an app users launch in Studio; tests create them with AddApp.
type App struct {
	DomainID string
	// UserProfileName or SpaceName: the owner of the app, exactly one.
	UserProfileName string
	SpaceName       string
	AppType         string // default "JupyterLab"
	AppName         string // default "default"
	Status          string // default InService
}

// Space is a Studio space; tests create them with AddSpace.
type Space struct {
	DomainID             string
	SpaceName            string
	OwnerUserProfileName string // "" for a space without an owner
	SharingType          string // "Private" (default) or "Shared"
	Status               string // default InService
}

// AddApp creates an app as Studio would when a user launches one, and
// returns its ARN. The owning profile's tags are copied to it, as
// SageMaker does for apps launched after the tags were set (reference rule 24).
func (e *Emulator) AddApp(a App) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a.AppType == "" {
		a.AppType = "JupyterLab"
	}
	if a.AppName == "" {
		a.AppName = "default"
	}
	if a.Status == "" {
		a.Status = StatusInService
	}
	if !slices.Contains(validAppTypes, a.AppType) {
		return "", fmt.Errorf("awsemu: unknown app type %q", a.AppType)
	}
	owner := a.UserProfileName
	var tags []Tag
	switch {
	case (a.UserProfileName == "") == (a.SpaceName == ""):
		return "", fmt.Errorf("awsemu: an app belongs to exactly one of a profile and a space")
	case a.UserProfileName != "":
		p, ok := e.sm.profiles[profileKey{a.DomainID, a.UserProfileName}]
		if !ok {
			return "", fmt.Errorf("awsemu: no profile %s/%s", a.DomainID, a.UserProfileName)
		}
		tags = append(tags, e.sm.tags[p.arn]...)
	default:
		if _, ok := e.sm.spaces[profileKey{a.DomainID, a.SpaceName}]; !ok {
			return "", fmt.Errorf("awsemu: no space %s/%s", a.DomainID, a.SpaceName)
		}
		owner = a.SpaceName
	}
	if e.findApp(a.DomainID, a.UserProfileName, a.SpaceName, a.AppType, a.AppName) != nil {
		return "", fmt.Errorf("awsemu: app %s/%s/%s exists", owner, a.AppType, a.AppName)
	}
	e.sm.seq++
	ap := &app{
		domain: a.DomainID, profile: a.UserProfileName, space: a.SpaceName, typ: a.AppType, name: a.AppName,
		seq: e.sm.seq, status: a.Status, created: e.now(), prog: newProgress(e.opts.Async, e.now()),
		arn: strings.ToLower(fmt.Sprintf("arn:aws:sagemaker:%s:%s:app/%s/%s/%s/%s", e.opts.Region, e.opts.AccountID, a.DomainID, owner, a.AppType, a.AppName)),
	}
	e.sm.apps = append(e.sm.apps, ap)
	e.sm.tags[ap.arn] = tags
	return ap.arn, nil
}

// findApp returns the newest app of that name that is not Deleted.
func (e *Emulator) findApp(domainID, profileName, spaceName, typ, name string) *app {
	for i := len(e.sm.apps) - 1; i >= 0; i-- {
		a := e.sm.apps[i]
		if a.domain == domainID && a.profile == profileName && a.space == spaceName && a.typ == typ && a.name == name && a.status != StatusDeleted {
			return a
		}
	}
	return nil
}

// AddSpace creates a space and returns its ARN.
func (e *Emulator) AddSpace(s Space) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.SharingType == "" {
		s.SharingType = "Private"
	}
	if s.Status == "" {
		s.Status = StatusInService
	}
	if _, ok := e.sm.domains[s.DomainID]; !ok {
		return "", fmt.Errorf("awsemu: no domain %s", s.DomainID)
	}
	if err := validateString(serviceSageMaker, "spaceName", s.SpaceName, 0, 63, reResourceName); err != nil {
		return "", fmt.Errorf("awsemu: %w", err)
	}
	if s.OwnerUserProfileName != "" {
		if _, ok := e.sm.profiles[profileKey{s.DomainID, s.OwnerUserProfileName}]; !ok {
			return "", fmt.Errorf("awsemu: no profile %s/%s", s.DomainID, s.OwnerUserProfileName)
		}
	}
	key := profileKey{s.DomainID, s.SpaceName}
	if _, ok := e.sm.spaces[key]; ok {
		return "", fmt.Errorf("awsemu: space %s/%s exists", s.DomainID, s.SpaceName)
	}
	e.sm.seq++
	now := e.now()
	sp := &space{
		domain: s.DomainID, name: s.SpaceName, owner: s.OwnerUserProfileName, sharing: s.SharingType,
		seq: e.sm.seq, status: s.Status, created: now, modified: now, prog: newProgress(e.opts.Async, now),
		arn: strings.ToLower(fmt.Sprintf("arn:aws:sagemaker:%s:%s:space/%s/%s", e.opts.Region, e.opts.AccountID, s.DomainID, s.SpaceName)),
	}
	e.sm.spaces[key] = sp
	e.sm.spaceSeq = append(e.sm.spaceSeq, sp)
	e.sm.tags[sp.arn] = nil
	return sp.arn, nil
}

// observeApp moves a Pending app to InService and a Deleting one to
// Deleted; Deleted apps stay listed (reference rule 26) but can no longer be
// tagged.
func (e *Emulator) observeApp(a *app) {
	if (a.status == StatusPending || a.status == StatusDeleting) && a.prog.observe(e.now()) {
		if a.status == StatusPending {
			a.status = StatusInService
			return
		}
		a.status = StatusDeleted
		delete(e.sm.tags, a.arn)
	}
}

func (e *Emulator) listApps(body []byte) (any, error) {
	var in struct {
		DomainIdEquals, UserProfileNameEquals, SpaceNameEquals *string
		listRequest
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	limit, after, desc, err := in.params()
	if err != nil {
		return nil, err
	}
	eq := func(want *string, got string) bool { return want == nil || *want == got }
	page, next, err := pageBySeq(e.sm.apps, func(a *app) uint64 { return a.seq }, func(a *app) bool {
		return eq(in.DomainIdEquals, a.domain) && eq(in.UserProfileNameEquals, a.profile) && eq(in.SpaceNameEquals, a.space)
	}, desc, after, limit)
	if err != nil {
		return nil, err
	}
	type details struct {
		DomainId, AppType, AppName, Status string
		UserProfileName                    string `json:",omitempty"`
		SpaceName                          string `json:",omitempty"`
		CreationTime                       epoch
	}
	out := struct {
		Apps      []details
		NextToken string `json:",omitempty"`
	}{Apps: []details{}, NextToken: next}
	for _, a := range page {
		e.observeApp(a)
		out.Apps = append(out.Apps, details{a.domain, a.typ, a.name, a.status, a.profile, a.space, epoch(a.created)})
	}
	return out, nil
}

// deleteApp: only InService apps can be deleted; Deleting -> Deleted is
// asynchronous (reference rule 26).
func (e *Emulator) deleteApp(body []byte) (any, error) {
	var in struct {
		DomainId, UserProfileName, SpaceName, AppType, AppName *string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	domainID, err := domainIDFrom("domainId", in.DomainId)
	if err != nil {
		return nil, err
	}
	appName, err := nameFrom("appName", in.AppName)
	if err != nil {
		return nil, err
	}
	typ, err := requiredSM("appType", in.AppType)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(validAppTypes, typ) {
		return nil, constraintErr(serviceSageMaker, "appType", typ, "Member must satisfy enum value set: ["+strings.Join(validAppTypes, ", ")+"]")
	}
	var profileName, spaceName string
	if in.UserProfileName != nil {
		profileName = *in.UserProfileName
	}
	if in.SpaceName != nil {
		spaceName = *in.SpaceName
	}
	if (profileName == "") == (spaceName == "") {
		return nil, smErr("ValidationException", "Exactly one of UserProfileName and SpaceName must be specified.")
	}
	a := e.findApp(domainID, profileName, spaceName, typ, appName)
	if a != nil {
		e.observeApp(a)
	}
	switch {
	case a == nil || a.status == StatusDeleted:
		return nil, smErr("ResourceNotFound", "App [%s] does not exist.", appName)
	case a.status == StatusFailed:
		return nil, smErr("ValidationException", "App [%s] is in Failed status and cannot be deleted.", a.arn)
	case a.status != StatusInService:
		return nil, smErr("ResourceInUse", "App [%s] is in %s status.", a.arn, a.status)
	}
	a.status = StatusDeleting
	a.prog = newProgress(e.opts.Async, e.now())
	return struct{}{}, nil
}

// observeSpace advances a space's state and reports whether it still exists.
func (e *Emulator) observeSpace(s *space) bool {
	switch s.status {
	case StatusPending, StatusUpdating:
		if s.prog.observe(e.now()) {
			s.status = StatusInService
		}
	case StatusDeleting:
		if s.prog.observe(e.now()) {
			delete(e.sm.spaces, profileKey{s.domain, s.name})
			delete(e.sm.tags, s.arn)
			if i, ok := slices.BinarySearchFunc(e.sm.spaceSeq, s.seq, func(x *space, q uint64) int { return cmp.Compare(x.seq, q) }); ok {
				e.sm.spaceSeq = slices.Delete(e.sm.spaceSeq, i, i+1)
			}
			return false
		}
	}
	return true
}

// listSpaces has no owner filter: clients filter on
// OwnershipSettingsSummary.OwnerUserProfileName (reference rule 26).
func (e *Emulator) listSpaces(body []byte) (any, error) {
	var in struct {
		DomainIdEquals, SpaceNameContains *string
		listRequest
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	limit, after, desc, err := in.params()
	if err != nil {
		return nil, err
	}
	contains := ""
	if in.SpaceNameContains != nil {
		contains = strings.ToLower(*in.SpaceNameContains)
	}
	page, next, err := pageBySeq(e.sm.spaceSeq, func(s *space) uint64 { return s.seq }, func(s *space) bool {
		return (in.DomainIdEquals == nil || *in.DomainIdEquals == s.domain) && strings.Contains(strings.ToLower(s.name), contains)
	}, desc, after, limit)
	if err != nil {
		return nil, err
	}
	type details struct {
		DomainId, SpaceName, Status    string
		CreationTime, LastModifiedTime epoch
		OwnershipSettingsSummary       spaceOwner
		SpaceSharingSettingsSummary    spaceSharing
	}
	out := struct {
		Spaces    []details
		NextToken string `json:",omitempty"`
	}{Spaces: []details{}, NextToken: next}
	for _, s := range page {
		if !e.observeSpace(s) {
			continue
		}
		out.Spaces = append(out.Spaces, details{s.domain, s.name, s.status, epoch(s.created), epoch(s.modified), spaceOwner{s.owner}, spaceSharing{s.sharing}})
	}
	return out, nil
}

// deleteSpace refuses while the space has apps that are not Deleted or
// Failed, then goes Deleting -> gone.
// spaceFor returns the space a request names, observed.
func (e *Emulator) spaceFor(body []byte) (*space, error) {
	var in struct{ DomainId, SpaceName *string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	domainID, err := domainIDFrom("domainId", in.DomainId)
	if err != nil {
		return nil, err
	}
	name, err := nameFrom("spaceName", in.SpaceName)
	if err != nil {
		return nil, err
	}
	s, ok := e.sm.spaces[profileKey{domainID, name}]
	if !ok || !e.observeSpace(s) {
		return nil, smErr("ResourceNotFound", "Space [%s] does not exist.", name)
	}
	return s, nil
}

func (e *Emulator) describeSpace(body []byte) (any, error) {
	s, err := e.spaceFor(body)
	if err != nil {
		return nil, err
	}
	return struct {
		DomainId, SpaceArn, SpaceName, Status string
		CreationTime, LastModifiedTime        epoch
		OwnershipSettings                     spaceOwner
		SpaceSharingSettings                  spaceSharing
	}{s.domain, s.arn, s.name, s.status, epoch(s.created), epoch(s.modified), spaceOwner{s.owner}, spaceSharing{s.sharing}}, nil
}

// spaceOwner and spaceSharing are a space's ownership and sharing
// settings, in DescribeSpace and in ListSpaces's summaries.
type spaceOwner struct {
	OwnerUserProfileName string `json:",omitempty"`
}

type spaceSharing struct{ SharingType string }

func (e *Emulator) deleteSpace(body []byte) (any, error) {
	s, err := e.spaceFor(body)
	if err != nil {
		return nil, err
	}
	switch s.status {
	case StatusInService, StatusFailed, StatusUpdateFailed, StatusDeleteFailed:
	default:
		return nil, smErr("ResourceInUse", "Cannot delete Space [%s] while it is in status %s.", s.arn, s.status)
	}
	for _, a := range e.sm.apps {
		if a.domain == s.domain && a.space == s.name && a.blocks() {
			return nil, smErr("ResourceInUse", "Unable to delete Space [%s] because App(s) are associated with it", s.arn)
		}
	}
	s.status = StatusDeleting
	s.modified = e.now()
	s.prog = newProgress(e.opts.Async, s.modified)
	return struct{}{}, nil
}
