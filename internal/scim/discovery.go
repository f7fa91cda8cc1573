package scim

import (
	"net/http"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// The discovery documents advertise exactly what works: PATCH, filters,
// ETags; no bulk, no sorting, no password change.
func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/sagebridge/sagebridge",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token",
			"description": "A bearer token created with `bridge token create NAME`.",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": h.base(r) + "/ServiceProviderConfig"},
	})
	return nil
}

func (h *Handler) resourceTypeDoc(r *http.Request, rt *schema.ResourceType) map[string]any {
	exts := make([]any, 0, len(rt.Extensions))
	for _, e := range rt.Extensions {
		exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
	}
	return map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id":               rt.ID,
		"name":             rt.Name,
		"endpoint":         rt.Endpoint,
		"description":      rt.Description,
		"schema":           rt.Schema.ID,
		"schemaExtensions": exts,
		"meta":             map[string]any{"resourceType": "ResourceType", "location": h.base(r) + "/ResourceTypes/" + rt.ID},
	}
}

func (h *Handler) resourceTypes(w http.ResponseWriter, r *http.Request) error {
	docs := []any{h.resourceTypeDoc(r, h.Users), h.resourceTypeDoc(r, h.Groups)}
	writeJSON(w, http.StatusOK, listResponse(docs))
	return nil
}

func (h *Handler) resourceType(w http.ResponseWriter, r *http.Request) error {
	for _, rt := range []*schema.ResourceType{h.Users, h.Groups} {
		if strings.EqualFold(rt.ID, r.PathValue("id")) {
			writeJSON(w, http.StatusOK, h.resourceTypeDoc(r, rt))
			return nil
		}
	}
	return errorf(http.StatusNotFound, "", "no resource type "+r.PathValue("id"))
}

// allSchemas lists each schema once: User and Group share no extension
// today, but a configured extension could be declared for both.
func (h *Handler) allSchemas() []*schema.Schema {
	var out []*schema.Schema
	seen := map[string]bool{}
	for _, rt := range []*schema.ResourceType{h.Users, h.Groups} {
		for _, s := range append([]*schema.Schema{rt.Schema}, extensionSchemas(rt)...) {
			if !seen[s.ID] {
				seen[s.ID] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func extensionSchemas(rt *schema.ResourceType) []*schema.Schema {
	out := make([]*schema.Schema, 0, len(rt.Extensions))
	for _, e := range rt.Extensions {
		out = append(out, e.Schema)
	}
	return out
}

func (h *Handler) schemaDoc(r *http.Request, s *schema.Schema) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  s.Attributes,
		"meta":        map[string]any{"resourceType": "Schema", "location": h.base(r) + "/Schemas/" + s.ID},
	}
}

func (h *Handler) schemas(w http.ResponseWriter, r *http.Request) error {
	var docs []any
	for _, s := range h.allSchemas() {
		docs = append(docs, h.schemaDoc(r, s))
	}
	writeJSON(w, http.StatusOK, listResponse(docs))
	return nil
}

func (h *Handler) schemaByID(w http.ResponseWriter, r *http.Request) error {
	for _, s := range h.allSchemas() {
		if strings.EqualFold(s.ID, r.PathValue("id")) {
			writeJSON(w, http.StatusOK, h.schemaDoc(r, s))
			return nil
		}
	}
	return errorf(http.StatusNotFound, "", "no schema "+r.PathValue("id"))
}

func listResponse(docs []any) map[string]any {
	return map[string]any{
		"schemas":      []string{schema.ListURN},
		"totalResults": len(docs),
		"startIndex":   1,
		"itemsPerPage": len(docs),
		"Resources":    docs,
	}
}

func (h *Handler) base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}
