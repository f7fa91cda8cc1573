package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/filter"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
)

// scanPage is how many records one scan step reads; each step is its own
// short read transaction.
const scanPage = 500

// Indexed attributes: every attribute Okta and Entra match on.
var (
	userIndexes = map[string]store.Index{
		"username":     store.IndexUserName,
		"externalid":   store.IndexUserExternalID,
		"emails.value": store.IndexUserEmail,
	}
	groupIndexes = map[string]store.Index{
		"displayname": store.IndexGroupName,
		"externalid":  store.IndexGroupExternalID,
	}
)

func indexedSet(idx map[string]store.Index, extra ...string) map[string]bool {
	out := map[string]bool{}
	for k := range idx {
		out[k] = true
	}
	for _, k := range extra {
		out[k] = true
	}
	return out
}

func (h *Handler) userResources() resources {
	return resources{
		rt:      h.Users,
		indexed: indexedSet(userIndexes, "groups.value"),
		lookup: func(ctx context.Context, l filter.Lookup) ([]string, bool, error) {
			attr := strings.ToLower(l.Attr)
			if attr == "groups.value" {
				if l.Prefix {
					return nil, false, nil
				}
				return h.memberList(ctx, l.Value)
			}
			idx, ok := userIndexes[attr]
			if !ok {
				return nil, false, nil
			}
			ids, err := h.Store.LookupUsers(ctx, store.Lookup{Index: idx, Value: l.Value, Prefix: l.Prefix})
			return ids, true, err
		},
		doc:      docByID(h.Store.GetUser, h.userDoc),
		scan:     scanDocs(h.Store.ScanUsers, h.userDoc),
		complete: h.completeUser,
		ids:      h.Store.UserIDs,
		total:    func(s store.Stats) int { return s.Users },
		computed: schema.User.Attr("groups"),
		fill:     h.fillGroups,
	}
}

func (h *Handler) groupResources() resources {
	return resources{
		rt:      h.Groups,
		indexed: indexedSet(groupIndexes, "members.value"),
		lookup: func(ctx context.Context, l filter.Lookup) ([]string, bool, error) {
			attr := strings.ToLower(l.Attr)
			if attr == "members.value" {
				if l.Prefix {
					return nil, false, nil
				}
				ids, err := h.Store.GroupsOf(ctx, l.Value)
				if errors.Is(err, store.ErrNotFound) {
					return nil, true, nil // no such user: in no group
				}
				return ids, true, err
			}
			idx, ok := groupIndexes[attr]
			if !ok {
				return nil, false, nil
			}
			ids, err := h.Store.LookupGroups(ctx, store.Lookup{Index: idx, Value: l.Value, Prefix: l.Prefix})
			return ids, true, err
		},
		doc:      docByID(h.Store.GetGroup, h.groupDoc),
		scan:     scanDocs(h.Store.ScanGroups, h.groupDoc),
		complete: h.completeGroup,
		ids:      h.Store.GroupIDs,
		total:    func(s store.Stats) int { return s.Groups },
		computed: schema.Group.Attr("members"),
		fill:     h.fillMembers,
	}
}

// memberList answers groups.value eq "<group id>" from the membership
// records: the members of that group, none when there is no such group.
func (h *Handler) memberList(ctx context.Context, groupID string) ([]string, bool, error) {
	var ids []string
	err := h.Store.Members(ctx, groupID, func(uid string) error {
		ids = append(ids, uid)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, true, nil
	}
	return ids, true, err
}

// docByID adapts a store getter to resources.doc: a record deleted since
// the lookup that named it is skipped, not an error.
func docByID[T any](get func(context.Context, string) (T, error), toDoc func(*http.Request, T) (map[string]any, error)) func(*http.Request, string) (map[string]any, bool, error) {
	return func(r *http.Request, id string) (map[string]any, bool, error) {
		rec, err := get(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		doc, err := toDoc(r, rec)
		return doc, err == nil, err
	}
}

// scanDocs adapts a store scan to resources.scan.
func scanDocs[T any](scan func(context.Context, string, int) (store.Page[T], error), toDoc func(*http.Request, T) (map[string]any, error)) func(*http.Request, string) ([]map[string]any, string, error) {
	return func(r *http.Request, after string) ([]map[string]any, string, error) {
		p, err := scan(r.Context(), after, scanPage)
		if err != nil {
			return nil, "", err
		}
		docs := make([]map[string]any, 0, len(p.Items))
		for _, rec := range p.Items {
			doc, err := toDoc(r, rec)
			if err != nil {
				return nil, "", err
			}
			docs = append(docs, doc)
		}
		return docs, p.Next, nil
	}
}
