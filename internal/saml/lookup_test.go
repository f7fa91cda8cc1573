package saml

import (
	"net/http"
	"testing"

	"github.com/sagebridge/sagebridge/internal/store"
)

func TestUserLookup(t *testing.T) {
	tests := []struct {
		name   string
		lookup string // saml.sp.userLookup YAML
		nameID string
		attrs  map[string]string
		wantOK bool
		reason string
	}{
		{"NameID is the userName, any case", "", "ALICE@example.COM", nil, true, ""},
		{"NameID matches no userName", "", "alice", nil, false, reasonUnknownUser},
		{"email attribute", "    userLookup: {attribute: mail, match: email}\n", "opaque-123", map[string]string{"mail": "Alice@Example.com"}, true, ""},
		{"email attribute missing", "    userLookup: {attribute: mail, match: email}\n", "alice@example.com", nil, false, reasonUnknownUser},
		{"userName attribute", "    userLookup: {attribute: login}\n", "x", map[string]string{"login": "alice@example.com"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{idpInit: true, lookup: tt.lookup})
			e.provision("alice@example.com", "ML Research")
			r := e.validResponse(tt.nameID, t0)
			r.attrs = tt.attrs
			resp := e.acs(r.xml(t), "")
			page(t, resp)
			if ok := resp.StatusCode == http.StatusOK; ok != tt.wantOK {
				t.Fatalf("status %s", resp.Status)
			}
			if !tt.wantOK {
				if got := e.signins(resultRefused, tt.reason); got != 1 {
					t.Errorf("signins_total{refused,%s} = %v", tt.reason, got)
				}
			}
		})
	}
}

// Two users sharing an email cannot be told apart: refuse, never guess.
func TestAmbiguousEmailIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true, lookup: "    userLookup: {attribute: mail, match: email}\n"})
	e.provision("shared@example.com", "ML Research")
	e.provision("SHARED@example.com.alias", "ML Research")
	// The second user's email is its userName; give it the first's too.
	r := e.validResponse("x", t0)
	r.attrs = map[string]string{"mail": "shared@example.com"}
	_, err := e.st.UpdateUser(t.Context(), "id-SHARED@example.com.alias", func(u store.User) (store.User, error) {
		u.Emails = append(u.Emails, "shared@example.com")
		return u, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := e.acs(r.xml(t), "")
	if page(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %s", resp.Status)
	}
	if got := e.signins(resultRefused, reasonAmbiguousUser); got != 1 {
		t.Errorf("signins_total{refused,ambiguous_user} = %v", got)
	}
}
