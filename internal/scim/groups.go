package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sagebridge/sagebridge/internal/scim/patch"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
)

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) error {
	proj, err := h.projection(r, h.Groups)
	if err != nil {
		return err
	}
	g, members, err := h.decodeGroup(r, h.NewID())
	if err != nil {
		return err
	}
	saved, err := h.Store.CreateGroup(r.Context(), g, members)
	if err != nil {
		return h.memberRefError(r, groupConflict(err, g.DisplayName), members)
	}
	h.audit(r, "group.create", saved.ID)
	w.Header().Set("Location", h.location(r, h.Groups, saved.ID))
	return h.respondGroup(w, r, http.StatusCreated, saved, proj)
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) error {
	proj, err := h.projection(r, h.Groups)
	if err != nil {
		return err
	}
	g, err := h.Store.GetGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if notModified(w, r, g.Version) {
		return nil
	}
	return h.respondGroup(w, r, http.StatusOK, g, proj)
}

// replaceGroup is PUT, which Okta's custom apps use with the full member
// list: the membership becomes exactly the members sent.
func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request) error {
	proj, err := h.projection(r, h.Groups)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	g, members, err := h.decodeGroup(r, id)
	if err != nil {
		return err
	}
	check := precondition(r)
	saved, err := h.Store.UpdateGroup(r.Context(), id, func(cur store.Group) (store.GroupChange, error) {
		if err := check(cur.Version); err != nil {
			return store.GroupChange{}, err
		}
		rec := g
		return store.GroupChange{Group: &rec, ReplaceMembers: true, Add: members}, nil
	})
	if err != nil {
		return h.memberRefError(r, groupConflict(err, g.DisplayName), members)
	}
	h.audit(r, "group.replace", id)
	return h.respondGroup(w, r, http.StatusOK, saved, proj)
}

// patchGroup applies a PatchOp. Members never enter the document: the PATCH
// engine hands member operations to a memberDelta, so adding one member to a
// group of 50,000 writes two keys. The answer is 204 (what Entra expects),
// or 200 with the group when the client asks for attributes.
func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request) error {
	proj, err := h.projection(r, h.Groups)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ops, err := patch.ParseRequest(body)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	check := precondition(r)
	var name string
	var added []string
	saved, err := h.Store.UpdateGroup(r.Context(), id, func(cur store.Group) (store.GroupChange, error) {
		if err := check(cur.Version); err != nil {
			return store.GroupChange{}, err
		}
		doc, err := decodeData(cur.Data)
		if err != nil {
			return store.GroupChange{}, err
		}
		delta := newMemberDelta(r.Context(), h.Store, id)
		doc, err = patch.Apply(h.Groups, doc, ops, patch.Options{ID: id, External: map[string]patch.External{"members": delta}})
		if err != nil {
			return store.GroupChange{}, err
		}
		rec, err := groupRecord(h.Groups, id, doc)
		name, added = rec.DisplayName, delta.adds
		return delta.change(&rec), err
	})
	if err != nil {
		return h.memberRefError(r, groupConflict(err, name), added)
	}
	h.audit(r, "group.patch", id)
	if r.URL.Query().Get("attributes") == "" && r.URL.Query().Get("excludedAttributes") == "" {
		w.Header().Set("ETag", etag(saved.Version))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return h.respondGroup(w, r, http.StatusOK, saved, proj)
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ifVersion, err := h.checkDeletePrecondition(r, func() (uint64, error) {
		g, err := h.Store.GetGroup(r.Context(), id)
		return g.Version, err
	})
	if err != nil {
		return err
	}
	if err := h.Store.DeleteGroup(r.Context(), id, ifVersion); err != nil {
		return err
	}
	h.audit(r, "group.delete", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeGroup reads a POST or PUT body into a group record and its members.
func (h *Handler) decodeGroup(r *http.Request, id string) (store.Group, []string, error) {
	raw, err := decodeObject(r)
	if err != nil {
		return store.Group{}, nil, err
	}
	doc, err := h.Groups.Normalize(raw)
	if err != nil {
		return store.Group{}, nil, err
	}
	elems, _ := doc["members"].([]any)
	delete(doc, "members")
	members := make([]string, 0, len(elems))
	for _, e := range elems {
		m, _ := e.(map[string]any)
		id, err := memberID(m)
		if err != nil {
			return store.Group{}, nil, err
		}
		members = append(members, id)
	}
	g, err := groupRecord(h.Groups, id, doc)
	return g, members, err
}

// memberRefError names, for a membership the store refused because a
// member is not a user, the first of ids that is not one. It runs only
// when the write has failed.
func (h *Handler) memberRefError(r *http.Request, err error, ids []string) error {
	if !errors.Is(err, store.ErrInvalidReference) {
		return err
	}
	for _, id := range ids {
		if _, gerr := h.Store.GetUser(r.Context(), id); errors.Is(gerr, store.ErrNotFound) {
			return &apiError{Status: http.StatusBadRequest, Type: schema.InvalidValue,
				Detail: fmt.Sprintf("members: there is no user with id %q (only users can be members)", id), Err: err}
		}
	}
	return err
}

func groupConflict(err error, displayName string) error {
	if errors.Is(err, store.ErrConflict) {
		return &apiError{Status: http.StatusConflict, Type: schema.NotUnique,
			Detail: fmt.Sprintf("displayName %q is already taken (group names are unique regardless of case)", displayName), Err: err}
	}
	return err
}

func groupRecord(rt *schema.ResourceType, id string, doc map[string]any) (store.Group, error) {
	if err := rt.CheckRequired(doc); err != nil {
		return store.Group{}, err
	}
	for _, name := range []string{"displayName", "externalId"} {
		if err := checkIndexed(name, stringAttr(doc, name)); err != nil {
			return store.Group{}, err
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return store.Group{}, fmt.Errorf("encode group %s: %w", id, err)
	}
	return store.Group{
		ID:          id,
		DisplayName: stringAttr(doc, "displayName"),
		ExternalID:  stringAttr(doc, "externalId"),
		Data:        data,
	}, nil
}

func (h *Handler) groupDoc(r *http.Request, g store.Group) (map[string]any, error) {
	doc, err := decodeData(g.Data)
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", g.ID, err)
	}
	doc["id"] = g.ID
	doc["meta"] = h.meta(r, h.Groups, g.ID, g.Meta)
	return doc, nil
}

// completeGroup adds the members, read from their own records, when the
// projection returns them (Entra asks for excludedAttributes=members).
func (h *Handler) completeGroup(r *http.Request, doc map[string]any, proj schema.Projection) error {
	if !proj.Includes(h.Groups, schema.Group, schema.Group.Attr("members")) {
		return nil
	}
	return h.fillMembers(r, doc)
}

// fillMembers sets doc's members attribute from the membership records.
func (h *Handler) fillMembers(r *http.Request, doc map[string]any) error {
	id, _ := doc["id"].(string)
	var members []any
	err := h.Store.Members(r.Context(), id, func(uid string) error {
		members = append(members, map[string]any{
			"value": uid, "type": "User", "$ref": h.location(r, h.Users, uid),
		})
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted since it was read: a list shows it as it was
	}
	if err != nil {
		return fmt.Errorf("members of group %s: %w", id, err)
	}
	if len(members) > 0 {
		doc["members"] = members
	}
	return nil
}

func (h *Handler) respondGroup(w http.ResponseWriter, r *http.Request, status int, g store.Group, proj schema.Projection) error {
	doc, err := h.groupDoc(r, g)
	if err != nil {
		return err
	}
	if err := h.completeGroup(r, doc, proj); err != nil {
		return err
	}
	writeResource(w, status, g.Version, render(h.Groups, doc, proj))
	return nil
}
