package mapping

import "testing"

// BenchmarkResolve is a sign-in's mapping cost: a user with an enterprise
// extension in a few groups, three session tags, one team (target: well
// under 50 µs).
func BenchmarkResolve(b *testing.B) {
	m := newMapping(b, awsSection("aws"), "  userId: user.userName.split('@')[0]\n"+
		"  sessionTags:\n    userId: userId\n    team: team\n"+
		"    dept: user[?'"+enterpriseURN+"'].?department.orValue('none')\n"+
		"  transitiveTagKeys: [userId]\n"+threeTeams)
	u := newUser("jane.doe@example.com", map[string]any{
		"name":        map[string]any{"givenName": "Jane", "familyName": "Doe"},
		"emails":      []any{map[string]any{"value": "jane.doe@example.com", "primary": true, "type": "work"}},
		"displayName": "Jane Doe",
		enterpriseURN: map[string]any{"department": "Research", "employeeNumber": "12345", "costCenter": "CC-7"},
	})
	gs := groups("Everyone", "ML Research", "VPN Users", "Interns")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Resolve(m, u, gs); err != nil {
			b.Fatal(err)
		}
	}
}
