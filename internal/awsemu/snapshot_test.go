package awsemu

import (
	"fmt"
	"net/url"
	"reflect"
	"testing"
)

// fill creates n roles and n profiles without HTTP, as the API would.
func fill(t *testing.T, e *Emulator, n int) {
	t.Helper()
	for i := range n {
		f := form{url.Values{"RoleName": {fmt.Sprintf("role-%d", i)}, "AssumeRolePolicyDocument": {sageMakerTrust}}}
		if _, err := e.locked(func() (any, error) { return e.createRole(f) }); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf(`{"DomainId":%q,"UserProfileName":"user-%d","Tags":[{"Key":"userId","Value":"u%d"}]}`, testDomain, i, i)
		if _, err := e.locked(func() (any, error) { return e.createUserProfile([]byte(body)) }); err != nil {
			t.Fatal(err)
		}
	}
}

// Role and Profile answer what Snapshot holds, and a lookup costs the
// same whatever the number of resources: the syncbench and the
// integration tests check thousands of profiles one by one, and a lookup
// that copied the whole state would make that quadratic.
func TestLookupsAreSingleCopies(t *testing.T) {
	small, large := New(Options{Domains: []Domain{{ID: testDomain}}}), New(Options{Domains: []Domain{{ID: testDomain}}})
	fill(t, small, 3)
	fill(t, large, 900)
	for _, tt := range []struct {
		name   string
		lookup func(e *Emulator) (any, bool)
		inSnap func(s State) any
	}{
		{"role, any case", func(e *Emulator) (any, bool) { return e.Role("ROLE-1") }, func(s State) any { return s.Roles[1] }},
		{"profile", func(e *Emulator) (any, bool) { return e.Profile(testDomain, "user-1") }, func(s State) any { return s.Profiles[1] }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range []*Emulator{small, large} {
				got, ok := tt.lookup(e)
				if want := tt.inSnap(e.Snapshot()); !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("lookup = %+v, %v; the snapshot has %+v", got, ok, want)
				}
			}
			allocs := func(e *Emulator) float64 { return testing.AllocsPerRun(20, func() { tt.lookup(e) }) }
			if s, l := allocs(small), allocs(large); s != l {
				t.Errorf("allocations per lookup: %v among 3 resources, %v among 900", s, l)
			}
		})
	}
	if _, ok := small.Role("nope"); ok {
		t.Error("Role found a role that does not exist")
	}
	if _, ok := small.Profile(testDomain, "nope"); ok {
		t.Error("Profile found a profile that does not exist")
	}
}
