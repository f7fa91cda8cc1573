package scim_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim"
	"github.com/sagebridge/sagebridge/internal/store"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t)

	spc := e.get("/ServiceProviderConfig").want(t, http.StatusOK).JSON
	for feature, want := range map[string]bool{
		"patch": true, "filter": true, "etag": true, "sort": false, "bulk": false, "changePassword": false,
	} {
		if got := path(spc, feature, "supported"); got != want {
			t.Errorf("ServiceProviderConfig %s.supported = %v, want %v", feature, got, want)
		}
	}
	if len(list(spc["authenticationSchemes"])) == 0 {
		t.Error("ServiceProviderConfig has no authenticationSchemes")
	}

	schemas := e.get("/Schemas").want(t, http.StatusOK)
	var ids []string
	for _, s := range list(schemas.JSON["Resources"]) {
		ids = append(ids, str(obj(s)["id"]))
		if len(list(obj(s)["attributes"])) == 0 {
			t.Errorf("schema %v has no attributes", obj(s)["id"])
		}
	}
	for _, want := range []string{userURN, groupURN, entURN} {
		if !slices.Contains(ids, want) {
			t.Errorf("/Schemas lacks %s: %v", want, ids)
		}
	}
	if total(t, schemas) != len(ids) {
		t.Errorf("/Schemas totalResults %d, %d resources", total(t, schemas), len(ids))
	}
	ent := e.get("/Schemas/"+entURN).want(t, http.StatusOK)
	if str(ent.JSON["id"]) != entURN {
		t.Errorf("/Schemas/%s id = %v", entURN, ent.JSON["id"])
	}
	e.get("/Schemas/urn:nope").wantError(t, http.StatusNotFound, "")

	rts := e.get("/ResourceTypes").want(t, http.StatusOK)
	byName := map[string]map[string]any{}
	for _, rt := range list(rts.JSON["Resources"]) {
		byName[str(obj(rt)["name"])] = obj(rt)
	}
	if u := byName["User"]; str(u["endpoint"]) != "/Users" || str(u["schema"]) != userURN ||
		str(path(list(u["schemaExtensions"])[0], "schema")) != entURN {
		t.Errorf("ResourceType User = %v", u)
	}
	if g := byName["Group"]; str(g["endpoint"]) != "/Groups" || str(g["schema"]) != groupURN {
		t.Errorf("ResourceType Group = %v", g)
	}
	if r := e.get("/ResourceTypes/Group").want(t, http.StatusOK); str(r.JSON["endpoint"]) != "/Groups" {
		t.Errorf("/ResourceTypes/Group = %s", r.Raw)
	}
	e.get("/ResourceTypes/Nope").wantError(t, http.StatusNotFound, "")
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.db.CreateToken(ctx, store.Token{Name: "revoked", Hash: scim.HashToken("old-token")}); err != nil {
		t.Fatal(err)
	}
	e.get("/Users", hdr{"Authorization", "Bearer old-token"}).want(t, http.StatusOK)
	if err := e.db.DeleteToken(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, auth string }{
		{"missing", ""},
		{"invalid", "Bearer wrong"},
		{"revoked", "Bearer old-token"},
		{"basic", "Basic " + token},
		{"bare token", token},
		{"empty bearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []string{"/Users", "/Groups/x", "/ServiceProviderConfig"} {
				r := e.get(p, hdr{"Authorization", tc.auth})
				r.wantError(t, http.StatusUnauthorized, "")
				if r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("GET %s: 401 without WWW-Authenticate", p)
				}
			}
			r := e.post("/Users", map[string]any{"userName": "intruder"}, hdr{"Authorization", tc.auth})
			r.wantError(t, http.StatusUnauthorized, "")
		})
	}
	if r := e.get("/Users" + query("filter", `userName eq "intruder"`)); total(t, r) != 0 {
		t.Errorf("an unauthenticated POST created a user: %s", r.Raw)
	}
	e.get("/Users", hdr{"Authorization", "bearer " + token}).want(t, http.StatusOK)
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/Users/nope", nil},
		{"GET", "/Groups/nope", nil},
		{"PUT", "/Users/nope", map[string]any{"userName": "x"}},
		{"PUT", "/Groups/nope", map[string]any{"displayName": "x"}},
		{"PATCH", "/Users/nope", ops("replace", "active", false)},
		{"PATCH", "/Groups/nope", ops("replace", "displayName", "x")},
		{"DELETE", "/Users/nope", nil},
		{"DELETE", "/Groups/nope", nil},
		{"GET", "/Widgets", nil},
		{"GET", "/Users/a/b", nil},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			e.do(tc.method, tc.path, tc.body).wantError(t, http.StatusNotFound, "")
		})
	}
}
