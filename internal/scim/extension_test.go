package scim_test

import (
	"net/http"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

const acmeURN = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

// A configured extension schema is published, validated, stored, filtered
// on and patched like the built-in ones, so a mapping can use it later.
func TestConfiguredExtension(t *testing.T) {
	acme, err := schema.NewSchema(acmeURN, "AcmeUser", "", []*schema.Attribute{
		{Name: "costCenter", Type: schema.String},
		{Name: "clearance", Type: schema.Integer},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withHandler(func(h *scim.Handler) { h.Users = schema.NewUserType(acme) }))

	r := e.get("/Schemas/"+acmeURN).want(t, http.StatusOK)
	if r.JSON["id"] != acmeURN {
		t.Fatalf("schema: %s", r.Raw)
	}
	r = e.post("/Users", map[string]any{
		"schemas":  []string{schema.UserURN, acmeURN},
		"userName": "dana@corp.example",
		acmeURN:    map[string]any{"costCenter": "CC-7", "clearance": 3},
	}).want(t, http.StatusCreated)
	id := str(r.JSON["id"])
	if got := obj(r.JSON[acmeURN]); got["costCenter"] != "CC-7" || got["clearance"] != float64(3) {
		t.Fatalf("created extension: %v", got)
	}
	if ids := listIDs(t, e.get("/Users"+query("filter", acmeURN+`:clearance ge 2`))); len(ids) != 1 || ids[0] != id {
		t.Fatalf("filter on extension: %v", ids)
	}
	e.patch("/Users/"+id, map[string]any{
		"schemas":    []string{schema.PatchOpURN},
		"Operations": []any{map[string]any{"op": "replace", "path": acmeURN + ":costCenter", "value": "CC-8"}},
	}).want(t, http.StatusOK)
	if got := obj(e.get("/Users/" + id).JSON[acmeURN]); got["costCenter"] != "CC-8" {
		t.Fatalf("patched extension: %v", got)
	}

	e.post("/Users", map[string]any{"userName": "x@corp.example", acmeURN: map[string]any{"clearance": "high"}}).
		wantError(t, http.StatusBadRequest, "invalidValue")
	e.post("/Users", map[string]any{"userName": "y@corp.example", "urn:example:unknown:1.0:User": map[string]any{"a": "b"}}).
		wantError(t, http.StatusBadRequest, "invalidValue")
}
