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

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) error {
	proj, err := h.projection(r, h.Users)
	if err != nil {
		return err
	}
	raw, err := decodeObject(r)
	if err != nil {
		return err
	}
	doc, err := h.Users.Normalize(raw)
	if err != nil {
		return err
	}
	u, err := userRecord(h.Users, h.NewID(), doc)
	if err != nil {
		return err
	}
	saved, err := h.Store.CreateUser(r.Context(), u)
	if err != nil {
		return userConflict(err, u.UserName)
	}
	h.audit(r, "user.create", saved.ID)
	w.Header().Set("Location", h.location(r, h.Users, saved.ID))
	return h.respondUser(w, r, http.StatusCreated, saved, proj)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) error {
	proj, err := h.projection(r, h.Users)
	if err != nil {
		return err
	}
	u, err := h.Store.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if notModified(w, r, u.Version) {
		return nil
	}
	return h.respondUser(w, r, http.StatusOK, u, proj)
}

// replaceUser is PUT: the body becomes the user. Okta uses it for every
// profile change and, in custom apps, for deactivation.
func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request) error {
	raw, err := decodeObject(r)
	if err != nil {
		return err
	}
	doc, err := h.Users.Normalize(raw)
	if err != nil {
		return err
	}
	return h.updateUser(w, r, "user.replace", func(store.User) (map[string]any, error) {
		return cloneDoc(doc), nil
	})
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ops, err := patch.ParseRequest(body)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	return h.updateUser(w, r, "user.patch", func(cur store.User) (map[string]any, error) {
		doc, err := decodeData(cur.Data)
		if err != nil {
			return nil, err
		}
		return patch.Apply(h.Users, doc, ops, patch.Options{ID: id})
	})
}

// updateUser stores the document next derives from the current user, under
// the request's If-Match, and answers with the result. next may run more
// than once (the store retries on a concurrent change).
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, action string, next func(cur store.User) (map[string]any, error)) error {
	proj, err := h.projection(r, h.Users)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	check := precondition(r)
	var name string
	saved, err := h.Store.UpdateUser(r.Context(), id, func(cur store.User) (store.User, error) {
		if err := check(cur.Version); err != nil {
			return store.User{}, err
		}
		doc, err := next(cur)
		if err != nil {
			return store.User{}, err
		}
		u, err := userRecord(h.Users, id, doc)
		name = u.UserName
		return u, err
	})
	if err != nil {
		return userConflict(err, name)
	}
	h.audit(r, action, id)
	return h.respondUser(w, r, http.StatusOK, saved, proj)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ifVersion, err := h.checkDeletePrecondition(r, func() (uint64, error) {
		u, err := h.Store.GetUser(r.Context(), id)
		return u.Version, err
	})
	if err != nil {
		return err
	}
	if err := h.Store.DeleteUser(r.Context(), id, ifVersion); err != nil {
		return err
	}
	h.audit(r, "user.delete", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func userConflict(err error, userName string) error {
	if errors.Is(err, store.ErrConflict) {
		return &apiError{Status: http.StatusConflict, Type: schema.NotUnique,
			Detail: fmt.Sprintf("userName %q is already taken (userName is unique regardless of case)", userName), Err: err}
	}
	return err
}

// userRecord extracts the indexed fields of a normalised user document.
// A user without "active" is active: it is what every IdP means by creating
// one, and the stored document says so explicitly.
func userRecord(rt *schema.ResourceType, id string, doc map[string]any) (store.User, error) {
	if err := rt.CheckRequired(doc); err != nil {
		return store.User{}, err
	}
	active, ok := doc["active"].(bool)
	if !ok {
		active = true
		doc["active"] = true
	}
	u := store.User{
		ID:         id,
		UserName:   stringAttr(doc, "userName"),
		ExternalID: stringAttr(doc, "externalId"),
		Active:     active,
	}
	emails, _ := doc["emails"].([]any)
	for _, e := range emails {
		if m, ok := e.(map[string]any); ok {
			if v, ok := m["value"].(string); ok {
				u.Emails = append(u.Emails, v)
			}
		}
	}
	if err := checkIndexed("userName", u.UserName); err != nil {
		return store.User{}, err
	}
	if err := checkIndexed("externalId", u.ExternalID); err != nil {
		return store.User{}, err
	}
	for _, e := range u.Emails {
		if err := checkIndexed("emails.value", e); err != nil {
			return store.User{}, err
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return store.User{}, fmt.Errorf("encode user %s: %w", id, err)
	}
	u.Data = data
	return u, nil
}

// userDoc is u as a document with its stored attributes, id and meta.
func (h *Handler) userDoc(r *http.Request, u store.User) (map[string]any, error) {
	doc, err := decodeData(u.Data)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", u.ID, err)
	}
	doc["id"] = u.ID
	doc["meta"] = h.meta(r, h.Users, u.ID, u.Meta)
	return doc, nil
}

// completeUser adds the groups attribute, computed from the membership
// records, when the projection returns it.
func (h *Handler) completeUser(r *http.Request, doc map[string]any, proj schema.Projection) error {
	if !proj.Includes(h.Users, schema.User, schema.User.Attr("groups")) {
		return nil
	}
	return h.fillGroups(r, doc)
}

// fillGroups sets doc's groups attribute from the membership records.
func (h *Handler) fillGroups(r *http.Request, doc map[string]any) error {
	id, _ := doc["id"].(string)
	groups, err := h.groupsOf(r, id)
	if err != nil {
		return err
	}
	if len(groups) > 0 {
		doc["groups"] = groups
	}
	return nil
}

func (h *Handler) groupsOf(r *http.Request, userID string) ([]any, error) {
	groups, err := h.Store.UserGroups(r.Context(), userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // deleted since it was read: shown as it was
	}
	if err != nil {
		return nil, err
	}
	out := make([]any, len(groups))
	for i, g := range groups {
		out[i] = map[string]any{
			"value": g.ID, "display": g.DisplayName, "type": "direct",
			"$ref": h.location(r, h.Groups, g.ID),
		}
	}
	return out, nil
}

func (h *Handler) respondUser(w http.ResponseWriter, r *http.Request, status int, u store.User, proj schema.Projection) error {
	doc, err := h.userDoc(r, u)
	if err != nil {
		return err
	}
	if err := h.completeUser(r, doc, proj); err != nil {
		return err
	}
	writeResource(w, status, u.Version, render(h.Users, doc, proj))
	return nil
}

// cloneDoc copies a document deeply enough that an update function can be
// re-run on it: Store updates may call their function more than once.
func cloneDoc(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneDoc(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}
