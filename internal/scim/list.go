package scim

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/filter"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
)

// query is a list request, from the URL (GET) or a SearchRequest (POST
// /.search).
type query struct {
	filter     string
	startIndex int
	count      int
	proj       schema.Projection
}

// resources is what listing needs of one resource type. Documents from doc
// and scan carry the stored attributes; complete adds the computed one
// (groups, members) and is called only for resources that are returned,
// unless the filter reads the computed attribute: then fill adds it to
// every candidate before matching.
type resources struct {
	rt      *schema.ResourceType
	indexed map[string]bool
	// lookup answers one planned index lookup; ok is false when this index
	// cannot answer that form (the list then scans).
	lookup func(ctx context.Context, l filter.Lookup) (ids []string, ok bool, err error)
	// doc's ok is false when the resource disappeared since the lookup.
	doc      func(r *http.Request, id string) (doc map[string]any, ok bool, err error)
	scan     func(r *http.Request, after string) (docs []map[string]any, next string, err error)
	ids      func(ctx context.Context, offset, limit int) ([]string, error)
	complete func(r *http.Request, doc map[string]any, proj schema.Projection) error
	total    func(s store.Stats) int
	// computed is the attribute kept outside the document, read from the
	// membership records; fill adds it to a document.
	computed *schema.Attribute
	fill     func(r *http.Request, doc map[string]any) error
}

func (h *Handler) projection(r *http.Request, rt *schema.ResourceType) (schema.Projection, error) {
	q := r.URL.Query()
	return rt.ParseProjection(q.Get("attributes"), q.Get("excludedAttributes"))
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	q, err := h.urlQuery(r, h.Users)
	if err != nil {
		return err
	}
	return h.list(w, r, h.userResources(), q)
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) error {
	q, err := h.urlQuery(r, h.Groups)
	if err != nil {
		return err
	}
	return h.list(w, r, h.groupResources(), q)
}

func (h *Handler) searchUsers(w http.ResponseWriter, r *http.Request) error {
	q, err := h.searchQuery(r, h.Users)
	if err != nil {
		return err
	}
	return h.list(w, r, h.userResources(), q)
}

func (h *Handler) searchGroups(w http.ResponseWriter, r *http.Request) error {
	q, err := h.searchQuery(r, h.Groups)
	if err != nil {
		return err
	}
	return h.list(w, r, h.groupResources(), q)
}

// urlQuery reads the query string. url.Values has already turned "+" into
// a space, which Entra's Test Connection relies on.
func (h *Handler) urlQuery(r *http.Request, rt *schema.ResourceType) (query, error) {
	v := r.URL.Query()
	q := query{filter: v.Get("filter"), startIndex: 1, count: defaultCount}
	var err error
	if s := v.Get("startIndex"); s != "" {
		if q.startIndex, err = strconv.Atoi(s); err != nil {
			return q, schema.Errorf(schema.InvalidValue, "startIndex", "must be an integer, got %q", s)
		}
	}
	if s := v.Get("count"); s != "" {
		if q.count, err = strconv.Atoi(s); err != nil {
			return q, schema.Errorf(schema.InvalidValue, "count", "must be an integer, got %q", s)
		}
	}
	if q.proj, err = h.projection(r, rt); err != nil {
		return q, err
	}
	return q.clamp(), nil
}

// searchRequest is RFC 7644 §3.4.3's body.
type searchRequest struct {
	Schemas            []string        `json:"schemas"`
	Filter             string          `json:"filter"`
	StartIndex         *int            `json:"startIndex"`
	Count              *int            `json:"count"`
	Attributes         json.RawMessage `json:"attributes"`
	ExcludedAttributes json.RawMessage `json:"excludedAttributes"`
	SortBy             string          `json:"sortBy"`
}

func (h *Handler) searchQuery(r *http.Request, rt *schema.ResourceType) (query, error) {
	q, attrs, excl, err := readSearch(r)
	if err != nil {
		return q, err
	}
	q.proj, err = rt.ParseProjection(attrs, excl)
	return q, err
}

// readSearch reads a SearchRequest body; the attribute lists come back
// unparsed because a root-level search resolves them per resource type.
func readSearch(r *http.Request) (q query, attrs, excl string, err error) {
	body, err := readBody(r)
	if err != nil {
		return q, "", "", err
	}
	if _, err := parseObject(body); err != nil {
		return q, "", "", err
	}
	var sr searchRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		return q, "", "", schema.Errorf(schema.InvalidSyntax, "", "not a SearchRequest: %s", jsonErrorText(err))
	}
	if !slices.ContainsFunc(sr.Schemas, func(s string) bool { return strings.EqualFold(s, schema.SearchURN) }) {
		return q, "", "", schema.Errorf(schema.InvalidSyntax, "schemas", "must contain %s", schema.SearchURN)
	}
	if sr.SortBy != "" {
		return q, "", "", schema.Errorf(schema.InvalidValue, "sortBy", "sorting is not supported (see /ServiceProviderConfig)")
	}
	q = query{filter: sr.Filter, startIndex: 1, count: defaultCount}
	if sr.StartIndex != nil {
		q.startIndex = *sr.StartIndex
	}
	if sr.Count != nil {
		q.count = *sr.Count
	}
	if attrs, err = attrList(sr.Attributes, "attributes"); err != nil {
		return q, "", "", err
	}
	if excl, err = attrList(sr.ExcludedAttributes, "excludedAttributes"); err != nil {
		return q, "", "", err
	}
	return q.clamp(), attrs, excl, nil
}

// searchAll is POST /.search (RFC 7644 §3.4.3): Users, then Groups, paged
// as one list. A filter or attribute that names something a resource type
// does not have leaves that type out, since none of its resources can
// match; only when every type refuses is the request an error.
func (h *Handler) searchAll(w http.ResponseWriter, r *http.Request) error {
	base, attrs, excl, err := readSearch(r)
	if err != nil {
		return err
	}
	var page []any
	total, refused := 0, 0
	var firstErr error
	for _, res := range []resources{h.userResources(), h.groupResources()} {
		q := base
		q.startIndex = max(1, base.startIndex-total)
		q.count = base.count - len(page)
		n, docs, err := h.projected(r, res, q, attrs, excl)
		var se *schema.Error
		if errors.As(err, &se) {
			refused++
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if err != nil {
			return err
		}
		total += n
		page = append(page, docs...)
	}
	if refused == 2 {
		return firstErr
	}
	writeList(w, total, base.startIndex, page)
	return nil
}

func (h *Handler) projected(r *http.Request, res resources, q query, attrs, excl string) (int, []any, error) {
	var err error
	if q.proj, err = res.rt.ParseProjection(attrs, excl); err != nil {
		return 0, nil, err
	}
	return h.collect(r, res, q)
}

// attrList accepts the array RFC 7644 specifies and, leniently, the
// comma-separated string the query parameter uses.
func attrList(raw json.RawMessage, field string) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return strings.Join(list, ","), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	return "", schema.Errorf(schema.InvalidValue, field, "must be an array of attribute paths")
}

// clamp applies RFC 7644 §3.4.2.4: a startIndex below 1 is 1, a negative
// count is 0, and count is capped at what /ServiceProviderConfig advertises.
func (q query) clamp() query {
	q.startIndex = max(q.startIndex, 1)
	q.count = min(max(q.count, 0), maxCount)
	return q
}

// list answers a list or search request on one resource type.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, res resources, q query) error {
	total, page, err := h.collect(r, res, q)
	if err != nil {
		return err
	}
	writeList(w, total, q.startIndex, page)
	return nil
}

func writeList(w http.ResponseWriter, total, startIndex int, page []any) {
	if page == nil {
		page = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":      []string{schema.ListURN},
		"totalResults": total,
		"startIndex":   startIndex,
		"itemsPerPage": len(page),
		"Resources":    page,
	})
}

// collect returns the total number of matches and the requested page,
// rendered. A filter that an index can answer reads only the candidates the
// index names; any other filter scans.
func (h *Handler) collect(r *http.Request, res resources, q query) (int, []any, error) {
	var f *filter.Filter
	if strings.TrimSpace(q.filter) != "" {
		expr, err := filter.Parse(q.filter)
		if err != nil {
			return 0, nil, err
		}
		if f, err = filter.Compile(res.rt, expr); err != nil {
			return 0, nil, err
		}
	}
	var matched []map[string]any
	total := 0
	keep := func(doc map[string]any) {
		total++
		if total >= q.startIndex && len(matched) < q.count {
			matched = append(matched, doc)
		}
	}
	var err error
	// filled: the filter reads the computed attribute, so every candidate
	// has it already.
	filled := f != nil && refersTo(res.rt, f.Expr(), res.computed)
	if f == nil {
		total, matched, err = h.listAll(r, res, q)
	} else {
		err = h.listFiltered(r, res, f, filled, keep)
	}
	if err != nil {
		return 0, nil, err
	}
	page := make([]any, 0, len(matched))
	for _, doc := range matched {
		if !filled {
			if err := res.complete(r, doc, q.proj); err != nil {
				return 0, nil, err
			}
		}
		page = append(page, render(res.rt, doc, q.proj))
	}
	return total, page, nil
}

// listFiltered calls keep for every resource f matches. With fill, the
// computed attribute is added to each candidate first: a group's members
// are not in its stored document, and a filter on them must see them.
// The index plan (members.value through GroupsOf) keeps that to the few
// candidates an index names whenever the filter allows it.
func (h *Handler) listFiltered(r *http.Request, res resources, f *filter.Filter, fill bool, keep func(map[string]any)) error {
	match := func(doc map[string]any) error {
		if fill {
			if err := res.fill(r, doc); err != nil {
				return err
			}
		}
		if f.Match(doc) {
			keep(doc)
		}
		return nil
	}
	lookups, planned := f.Plan(res.indexed)
	if !planned {
		return h.scanAll(r, res, match)
	}
	ids, answered, err := h.candidates(r.Context(), res, lookups)
	if err != nil {
		return err
	}
	if !answered {
		return h.scanAll(r, res, match)
	}
	for _, id := range ids {
		doc, ok, err := res.doc(r, id)
		if err != nil {
			return err
		}
		if ok {
			if err := match(doc); err != nil {
				return err
			}
		}
	}
	return nil
}

// refersTo reports whether e reads attribute a of rt (false for a nil a).
// A node it does not know counts as a reference: reading the attribute for
// nothing is slow, not reading it would be wrong.
func refersTo(rt *schema.ResourceType, e filter.Expr, a *schema.Attribute) bool {
	if a == nil {
		return false
	}
	switch x := e.(type) {
	case *filter.Compare:
		return x != nil && resolvesTo(rt, x.Path, a)
	case *filter.ValuePath:
		return x != nil && resolvesTo(rt, x.Attr, a)
	case *filter.Logical:
		return x != nil && (refersTo(rt, x.Left, a) || refersTo(rt, x.Right, a))
	case *filter.Not:
		return x != nil && refersTo(rt, x.X, a)
	}
	return true
}

func resolvesTo(rt *schema.ResourceType, p schema.Path, a *schema.Attribute) bool {
	ref, err := rt.Resolve(p)
	return err == nil && ref.Attr == a
}

// candidates is the sorted union of the ids the lookups return, so pages
// stay stable across requests.
func (h *Handler) candidates(ctx context.Context, res resources, lookups []filter.Lookup) ([]string, bool, error) {
	var ids []string
	for _, l := range lookups {
		found, ok, err := res.lookup(ctx, l)
		if err != nil {
			return nil, false, fmt.Errorf("index lookup %s: %w", l.Attr, err)
		}
		if !ok {
			return nil, false, nil
		}
		ids = append(ids, found...)
	}
	slices.Sort(ids)
	return slices.Compact(ids), true, nil
}

// listAll pages without a filter: the total comes from the store's
// counters, the page's ids from a key-only walk, and only the page's
// records are read, so page 1,000 costs about what page 1 does.
func (h *Handler) listAll(r *http.Request, res resources, q query) (int, []map[string]any, error) {
	stats, err := h.Store.Stats(r.Context())
	if err != nil {
		return 0, nil, err
	}
	if q.count == 0 {
		return res.total(stats), nil, nil
	}
	ids, err := res.ids(r.Context(), q.startIndex-1, q.count)
	if err != nil {
		return 0, nil, err
	}
	page := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		doc, ok, err := res.doc(r, id)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			page = append(page, doc)
		}
	}
	return res.total(stats), page, nil
}

// scanAll walks every resource in id order: the fallback for filters no
// index can answer.
func (h *Handler) scanAll(r *http.Request, res resources, fn func(map[string]any) error) error {
	after := ""
	for {
		docs, next, err := res.scan(r, after)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}
