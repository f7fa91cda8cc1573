package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/sagebridge/sagebridge/"

// allowed lists, per package, the non-standard-library imports it may have.
// A package missing here may import anything but a command and, outside
// commands, the AWS emulator.
var allowed = map[string][]string{
	"internal/store":           {},
	"internal/store/boltstore": {"internal/store", "internal/requestid", "go.etcd.io/bbolt", "go.etcd.io/bbolt/"},
	"internal/store/storetest": {"internal/store", "internal/requestid"},
	"internal/scim/schema":     {},
	"internal/scim/filter":     {"internal/scim/schema"},
	"internal/scim/patch":      {"internal/scim/schema", "internal/scim/filter"},
	"internal/config":          {"gopkg.in/yaml.v3", "internal/scim/schema", "cel.dev/cel-go/"},
	"internal/mapping":         {"internal/config", "internal/store", "cel.dev/cel-go/"},
	"internal/metrics":         {"internal/store", "github.com/prometheus/"},
	"internal/scim":            {"internal/store", "internal/scim/", "internal/metrics"},
	"internal/control":         {"internal/store", "internal/scim"},
	"internal/server":          {"github.com/prometheus/", "internal/requestid"},
	"internal/requestid":       {},
	// The status page reads the store, the sync's records and its summary;
	// it writes nothing.
	"internal/statuspage": {"internal/store", "internal/control", "internal/sync"},
	"internal/awsemu":     {},
	"internal/archtest":   {},
	"internal/aws":        {"github.com/aws/", "golang.org/x/time/"},
	// Sign-in speaks SAML on crewjam, goxmldsig and etree; it never
	// reaches AWS (the sync pushes its metadata) nor the SCIM API.
	"internal/samlmeta": {"github.com/crewjam/saml"},
	"internal/csp":      {},
	"internal/saml": {"internal/store", "internal/mapping", "internal/config", "internal/metrics", "internal/samlmeta", "internal/csp",
		"github.com/crewjam/saml", "github.com/russellhaering/goxmldsig", "github.com/russellhaering/goxmldsig/",
		"github.com/beevik/etree", "github.com/prometheus/"},
	// Dev mode's test IdP and AWS sign-in stand-in speak SAML on the same
	// libraries, read users and map them; only the daemon imports it.
	"internal/devidp": {"internal/store", "internal/mapping", "internal/samlmeta", "internal/csp",
		"github.com/crewjam/saml", "github.com/russellhaering/goxmldsig", "github.com/beevik/etree"},
	// The sync calls AWS through internal/aws's interfaces, whose methods
	// take the SDK's own input types, and registers its own instruments.
	"internal/sync": {"internal/store", "internal/mapping", "internal/aws", "internal/config", "internal/metrics", "internal/requestid",
		"github.com/aws/", "github.com/prometheus/", "golang.org/x/time/"},
}

func TestImportsPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		seen[pkg] = true
		for _, imp := range fields[1:] {
			if isStdlib(imp) {
				continue
			}
			rel := strings.TrimPrefix(imp, mod)
			if strings.HasPrefix(rel, "cmd/") {
				t.Errorf("%s imports %s: nothing imports a command", pkg, rel)
			}
			// awsemutest is the emulator's helper for tests, as httptest.
			if rel == "internal/awsemu" && !strings.HasPrefix(pkg, "cmd/") && pkg != "internal/awsemu/awsemutest" {
				t.Errorf("%s imports the AWS emulator: only tests and dev mode may", pkg)
			}
			if rel == "internal/devidp" && pkg != "cmd/bridge" {
				t.Errorf("%s imports dev mode's test IdP: only the daemon may", pkg)
			}
			rules, ok := allowed[pkg]
			if ok && !permitted(rel, rules) {
				t.Errorf("%s may not import %s (allowed: %v)", pkg, imp, rules)
			}
		}
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("rule for %s, which no longer exists", pkg)
		}
	}
}

func permitted(imp string, rules []string) bool {
	for _, r := range rules {
		if imp == r || (strings.HasSuffix(r, "/") && strings.HasPrefix(imp, r)) {
			return true
		}
	}
	return false
}

// isStdlib uses the rule the go command itself uses: standard library
// import paths have no dot in their first element.
func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
