package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// A SCIM request's id (here the caller's X-Request-Id) is on its access
// log line and on the AWS calls it caused, which the sync makes later, in
// another goroutine, from the durable queue: the JSON log ties them.
func TestRequestIDTiesASCIMRequestToItsAWSCalls(t *testing.T) {
	_, env := emulatedAWS(t)
	cfgPath := writeCrashConfig(t)
	d := startConfigDaemon(t, cfgPath, createToken(t, cfgPath), env)

	uid := postWithID(t, d, "/Users", "scim-user-1", newUser("traced@example.com"))
	postWithID(t, d, "/Groups", "scim-group-1", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "team-traced",
		"members":     []any{map[string]any{"value": uid}},
	})
	calls := func(op string) []map[string]any {
		var out []map[string]any
		for _, rec := range d.logs.records("aws call") {
			if rec["operation"] == op {
				out = append(out, rec)
			}
		}
		return out
	}
	pollUntil(t, "the profile to be created", func() bool { return len(calls("CreateUserProfile")) > 0 })

	// The group made the user a member of a team: that write queued the
	// user, its reconcile queued the team, and both created under its id.
	for _, op := range []string{"CreateUserProfile", "CreateRole"} {
		if len(calls(op)) == 0 {
			t.Errorf("no %s logged", op)
		}
		for _, rec := range calls(op) {
			if rec["request_id"] != "scim-group-1" || rec["level"] != "INFO" || rec["service"] == nil {
				t.Errorf("%s logged as %v, want request_id scim-group-1 at INFO with its service", op, rec)
			}
		}
	}
	found := false
	for _, rec := range d.logs.records("http request") {
		if rec["path"] == "/scim/v2/Groups" && rec["method"] == "POST" {
			found = rec["request_id"] == "scim-group-1"
		}
	}
	if !found {
		t.Errorf("no access log line for POST /scim/v2/Groups with request_id scim-group-1")
	}
}

// postWithID creates a SCIM resource with X-Request-Id set to id and
// returns the resource's id.
func postWithID(t *testing.T, d *daemon, path, id string, body map[string]any) string {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, d.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %v", path, resp.StatusCode, err)
	}
	if got := resp.Header.Get("X-Request-Id"); got != id {
		t.Errorf("POST %s answered X-Request-Id %q, want %q", path, got, id)
	}
	return out.ID
}
