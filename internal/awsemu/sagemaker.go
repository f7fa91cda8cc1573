package awsemu

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// smOps are the SageMaker operations the emulator implements.
var smOps = map[string]func(*Emulator, []byte) (any, error){
	"CreateUserProfile":   (*Emulator).createUserProfile,
	"DescribeUserProfile": (*Emulator).describeUserProfile,
	"UpdateUserProfile":   (*Emulator).updateUserProfile,
	"DeleteUserProfile":   (*Emulator).deleteUserProfile,
	"ListUserProfiles":    (*Emulator).listUserProfiles,
	"AddTags":             (*Emulator).addTags,
	"ListTags":            (*Emulator).listTags,
	"DeleteTags":          (*Emulator).deleteTags,
	"ListApps":            (*Emulator).listApps,
	"DeleteApp":           (*Emulator).deleteApp,
	"ListSpaces":          (*Emulator).listSpaces,
	"DescribeSpace":       (*Emulator).describeSpace,
	"DeleteSpace":         (*Emulator).deleteSpace,
	"DescribeDomain":      (*Emulator).describeDomain,
}

type smState struct {
	seq      uint64 // creation order of profiles, apps and spaces
	domains  map[string]*domain
	profiles map[profileKey]*profile
	byARN    map[string]*profile // lower-cased ARNs must stay unique
	order    []*profile          // live profiles by seq, for paging
	spaces   map[profileKey]*space
	spaceSeq []*space
	apps     []*app           // by seq; Deleted apps stay listed
	tags     map[string][]Tag // by ARN, for every taggable resource that exists
}

// profileKey names a profile or a space: both are unique per domain.
type profileKey struct{ domain, name string }

func (s *smState) init() {
	s.domains = map[string]*domain{}
	s.profiles = map[profileKey]*profile{}
	s.byARN = map[string]*profile{}
	s.spaces = map[profileKey]*space{}
	s.tags = map[string][]Tag{}
}

// Patterns of the SageMaker model (reference rule 20).
var (
	reDomainID      = regexp.MustCompile(`^d-(-*[a-z0-9]){1,61}$`)
	reResourceName  = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	reRoleARN       = regexp.MustCompile(`^arn:aws[a-z\-]*:iam::(\d{12}):role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	reSageMakerARN  = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:.+$`)
	validAppTypes   = []string{"JupyterServer", "KernelGateway", "DetailedProfiler", "TensorBoard", "CodeEditor", "JupyterLab", "RStudioServerPro", "RSessionGateway", "Canvas"}
	validSortOrders = []string{"", "Ascending", "Descending"}
)

// decodeJSON decodes a request body. Malformed JSON or a member of the
// wrong type is a SerializationException, as the service reports it.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return smErr("SerializationException", "Could not deserialize the request: %v", err)
	}
	return nil
}

func requiredSM(param string, v *string) (string, error) {
	if v == nil {
		return "", smErr("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", param)
	}
	return *v, nil
}

func domainIDFrom(param string, v *string) (string, error) {
	id, err := requiredSM(param, v)
	if err != nil {
		return "", err
	}
	return id, validateString(serviceSageMaker, param, id, 0, 63, reDomainID)
}

func nameFrom(param string, v *string) (string, error) {
	n, err := requiredSM(param, v)
	if err != nil {
		return "", err
	}
	return n, validateString(serviceSageMaker, param, n, 0, 63, reResourceName)
}

// epoch is a timestamp as awsJson1_1 sends it: seconds since the epoch.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

// listRequest is the paging and ordering every Studio List* call takes.
type listRequest struct {
	MaxResults                   *int
	NextToken, SortOrder, SortBy *string
}

// params reads a Studio listing's page size (1–100, default 10), cursor and
// order.
func (l listRequest) params() (limit int, after string, desc bool, err error) {
	if limit, after, err = smPaging(l.MaxResults, l.NextToken, 1, 100, 10); err != nil {
		return 0, "", false, err
	}
	desc, err = sortOrderDesc(l.SortOrder)
	return limit, after, desc, err
}

// smPaging reads MaxResults (lo–hi, default def) and NextToken.
func smPaging(maxResults *int, token *string, lo, hi, def int) (limit int, after string, err error) {
	limit = def
	if maxResults != nil {
		limit = *maxResults
		if limit < lo || limit > hi {
			return 0, "", rangeErr(serviceSageMaker, "maxResults", strconv.Itoa(limit), lo, hi)
		}
	}
	if token != nil && *token != "" {
		after, err = decodeCursor(*token)
		if err != nil {
			return 0, "", smErr("ValidationException", "Invalid pagination token")
		}
	}
	return limit, after, nil
}

// pageBySeq pages through items kept in creation order (ascending seq),
// ascending or descending, after the cursor (a seq), keeping those match
// accepts. The cursor is found by binary search, so a page costs the same
// however deep into a large listing it is.
func pageBySeq[T any](items []T, seq func(T) uint64, match func(T) bool, desc bool, after string, limit int) ([]T, string, error) {
	lo, hi := 0, len(items)
	if after != "" {
		cur, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, "", smErr("ValidationException", "Invalid pagination token")
		}
		i, found := slices.BinarySearchFunc(items, cur, func(it T, c uint64) int { return cmp.Compare(seq(it), c) })
		switch {
		case desc:
			hi = i
		case found:
			lo = i + 1
		default:
			lo = i
		}
	}
	var page []T
	for k := range hi - lo {
		it := items[lo+k]
		if desc {
			it = items[hi-1-k]
		}
		if !match(it) {
			continue
		}
		if len(page) == limit {
			return page, encodeCursor(strconv.FormatUint(seq(page[len(page)-1]), 10)), nil
		}
		page = append(page, it)
	}
	return page, "", nil
}

func sortOrderDesc(order *string) (bool, error) {
	if order == nil {
		return false, nil
	}
	if !slices.Contains(validSortOrders, *order) {
		return false, constraintErr(serviceSageMaker, "sortOrder", *order, "Member must satisfy enum value set: [Ascending, Descending]")
	}
	return *order == "Descending", nil
}

type domain struct {
	id, name, arn, authMode, executionRole string
	created                                time.Time
}

// Domain is a SageMaker domain. Users create domains outside the bridge, so
// the emulator has them from Options.Domains or AddDomain.
type Domain struct {
	ID   string // d-…; default "d-" plus a counter
	Name string // default: the ID
	// ExecutionRole is DefaultUserSettings.ExecutionRole.
	ExecutionRole string
	// AuthMode is "IAM" (default) or "SSO".
	AuthMode string
}

// AddDomain creates a domain, InService at once, and returns its ARN.
func (e *Emulator) AddDomain(d Domain) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d.ID == "" {
		e.sm.seq++
		d.ID = fmt.Sprintf("d-%012d", e.sm.seq)
	}
	if err := validateString(serviceSageMaker, "domainId", d.ID, 0, 63, reDomainID); err != nil {
		return "", fmt.Errorf("awsemu: %w", err)
	}
	if _, ok := e.sm.domains[d.ID]; ok {
		return "", fmt.Errorf("awsemu: domain %s exists", d.ID)
	}
	if d.Name == "" {
		d.Name = d.ID
	}
	if d.AuthMode == "" {
		d.AuthMode = "IAM"
	}
	dom := &domain{
		id: d.ID, name: d.Name, authMode: d.AuthMode, executionRole: d.ExecutionRole, created: e.now(),
		arn: fmt.Sprintf("arn:aws:sagemaker:%s:%s:domain/%s", e.opts.Region, e.opts.AccountID, d.ID),
	}
	e.sm.domains[d.ID] = dom
	e.sm.tags[dom.arn] = nil
	return dom.arn, nil
}

func (e *Emulator) describeDomain(body []byte) (any, error) {
	var in struct{ DomainId *string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	id, err := domainIDFrom("domainId", in.DomainId)
	if err != nil {
		return nil, err
	}
	d, ok := e.sm.domains[id]
	if !ok {
		return nil, smErr("ResourceNotFound", "Domain %s does not exist.", id)
	}
	type settings struct {
		ExecutionRole string `json:",omitempty"`
	}
	return struct {
		DomainArn, DomainId, DomainName, Status, AuthMode, Url, HomeEfsFileSystemId string
		CreationTime, LastModifiedTime                                              epoch
		DefaultUserSettings                                                         settings
	}{
		DomainArn: d.arn, DomainId: d.id, DomainName: d.name, Status: "InService", AuthMode: d.authMode,
		Url:                 fmt.Sprintf("https://%s.studio.%s.sagemaker.aws", d.id, e.opts.Region),
		HomeEfsFileSystemId: "fs-" + strings.TrimPrefix(d.id, "d-"),
		CreationTime:        epoch(d.created), LastModifiedTime: epoch(d.created),
		DefaultUserSettings: settings{d.executionRole},
	}, nil
}

type tagsInput struct {
	ResourceArn *string
	Tags        []Tag
	TagKeys     []string
	MaxResults  *int
	NextToken   *string
}

// taggedResource returns the ARN of an existing taggable resource. ARNs are
// matched exactly: SageMaker lowercases profile ARNs, and a case-mismatched
// ARN is "Resource does not exist" (reference rule 20).
func (e *Emulator) taggedResource(in tagsInput) (string, error) {
	arn, err := requiredSM("resourceArn", in.ResourceArn)
	if err != nil {
		return "", err
	}
	if err := validateString(serviceSageMaker, "resourceArn", arn, 0, 256, reSageMakerARN); err != nil {
		return "", err
	}
	if _, ok := e.sm.tags[arn]; !ok {
		return "", smErr("ValidationException", "Resource %s does not exist.", arn)
	}
	return arn, nil
}

// addTags adds or overwrites tags (reference rule 24). AddTags declares no
// modeled errors, so every refusal is a ValidationException.
func (e *Emulator) addTags(body []byte) (any, error) {
	var in tagsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	arn, err := e.taggedResource(in)
	if err != nil {
		return nil, err
	}
	if err := validateTags(serviceSageMaker, in.Tags, false); err != nil {
		return nil, err
	}
	merged := mergeTags(e.sm.tags[arn], in.Tags, false)
	if len(merged) > maxTags {
		return nil, smErr("ValidationException", "Too many tags: a resource can have at most %d tags.", maxTags)
	}
	e.sm.tags[arn] = merged
	return struct{ Tags []Tag }{in.Tags}, nil
}

func (e *Emulator) deleteTags(body []byte) (any, error) {
	var in tagsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	arn, err := e.taggedResource(in)
	if err != nil {
		return nil, err
	}
	if err := validateTagKeys(serviceSageMaker, in.TagKeys); err != nil {
		return nil, err
	}
	e.sm.tags[arn] = removeTags(e.sm.tags[arn], in.TagKeys, false)
	return struct{}{}, nil
}

// listTags pages by key; MaxResults is 50–100 (reference rule 24).
func (e *Emulator) listTags(body []byte) (any, error) {
	var in tagsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	arn, err := e.taggedResource(in)
	if err != nil {
		return nil, err
	}
	limit, after, err := smPaging(in.MaxResults, in.NextToken, 50, 100, 50)
	if err != nil {
		return nil, err
	}
	page, next := pageAfter(sortedTags(e.sm.tags[arn], false), func(t Tag) string { return t.Key }, after, limit)
	out := struct {
		Tags      []Tag
		NextToken string `json:",omitempty"`
	}{Tags: page, NextToken: next}
	if out.Tags == nil {
		out.Tags = []Tag{}
	}
	return out, nil
}
