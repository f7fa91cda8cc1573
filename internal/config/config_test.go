package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// problemsOf parses src as file "c.yaml" and returns its problems rendered,
// failing the test if Parse returned anything but Problems.
func problemsOf(t *testing.T, src string) []string {
	t.Helper()
	_, err := Parse("c.yaml", []byte(src))
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse error is %T, want Problems: %v", err, err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// wantOneProblem parses src and checks that it has exactly one problem,
// containing want.
func wantOneProblem(t *testing.T, src, want string) {
	t.Helper()
	got := problemsOf(t, src)
	if len(got) != 1 {
		t.Fatalf("got %d problems, want 1 containing %q:\n%s", len(got), want, strings.Join(got, "\n"))
	}
	if !strings.Contains(got[0], want) {
		t.Errorf("got  %s\nwant %s", got[0], want)
	}
}

func TestExampleConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d files in ../../configs, want bridge.example.yaml and dev.yaml at least", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Fatalf("Load(%s):\n%v", f, err)
			}
		})
	}
}

func TestExampleExtensionBuilds(t *testing.T) {
	c, err := Load("../../configs/bridge.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exts, err := c.ExtensionSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if len(exts) == 0 {
		t.Fatal("the example should show a custom extension")
	}
	schema.NewUserType(exts...) // must accept what the config builds
}

func TestDefaults(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "scim:\n", "log: {}\nscim: {}\n"} {
		c, err := Parse("dir/c.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		want := Default()
		want.Path = "dir/c.yaml"
		want.DataDir = filepath.Join("dir", "data")
		c.lines, want.lines = nil, nil
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", src, c, want)
		}
	}
	d := Default()
	if d.SCIM.MaxBodyBytes != 1<<20 || d.SCIM.MaxInFlight != 512 || d.SCIM.ShutdownTimeout.Duration != 30*time.Second ||
		d.Log.Level != "info" || d.Log.Format != "json" || d.DataDir != "./data" ||
		d.Listen != "127.0.0.1:8080" || d.AdminListen != "127.0.0.1:9090" {
		t.Errorf("Default() = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Default() does not validate: %v", err)
	}
}

func TestValidMinimalFile(t *testing.T) {
	src := `dataDir: /srv/bridge
listen: 0.0.0.0:8443
adminListen: 127.0.0.1:9443
log: {level: warn, format: text}
scim:
  maxBodyBytes: 2048
  maxInFlight: 100000
  shutdownTimeout: 1m30s
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/bridge" || c.Listen != "0.0.0.0:8443" || c.Log.Format != "text" ||
		c.SCIM.MaxBodyBytes != 2048 || c.SCIM.ShutdownTimeout.Duration != 90*time.Second {
		t.Errorf("got %+v", c)
	}
}

func TestDataDirResolution(t *testing.T) {
	tests := []struct{ path, dataDir, want string }{
		{"/etc/bridge/bridge.yaml", "./data", "/etc/bridge/data"},
		{"/etc/bridge/bridge.yaml", "../var", "/etc/var"},
		{"/etc/bridge/bridge.yaml", "/var/lib/bridge", "/var/lib/bridge"},
		{"configs/dev.yaml", "data", "configs/data"},
		{"bridge.yaml", "./data", "data"},
		{"", "./data", "./data"}, // no file: relative to the working directory
	}
	for _, tt := range tests {
		c, err := Parse(tt.path, []byte("dataDir: "+tt.dataDir+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.DataDir != tt.want {
			t.Errorf("Parse(%q) dataDir %q = %q, want %q", tt.path, tt.dataDir, c.DataDir, tt.want)
		}
	}
	// The default is anchored too, so a file without dataDir uses the
	// directory beside it.
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("log: {level: info}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "data") {
		t.Errorf("default dataDir = %q, want %q", c.DataDir, filepath.Join(dir, "data"))
	}
	if _, err := os.Stat(c.DataDir); !os.IsNotExist(err) {
		t.Errorf("Load created %s (stat: %v); loading must have no side effects", c.DataDir, err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("err = %v, want a wrapped not-exist naming the file", err)
	}
}

func TestValidationRules(t *testing.T) {
	ext := func(body string) string {
		return "scim:\n  extensions:\n    - id: urn:acme:ext\n" + body
	}
	tests := []struct {
		name, src, want string
	}{
		{"empty dataDir", "dataDir: ''\n", `c.yaml:1: dataDir: must not be empty`},
		{"listen no port", "listen: localhost\n", `c.yaml:1: listen: must be host:port such as 127.0.0.1:8080, got "localhost" (missing port in address)`},
		{"listen bad port", "listen: 127.0.0.1:http\n", `c.yaml:1: listen: port must be a number from 1 to 65535 (or 0 for any free port), got "http"`},
		{"listen port too big", "listen: :65536\n", `c.yaml:1: listen: port must be a number`},
		{"adminListen bad", "\nadminListen: '[::1'\n", `c.yaml:2: adminListen: must be host:port`},
		{"same listeners", "listen: 127.0.0.1:9000\nadminListen: 127.0.0.1:9000\n", `c.yaml:2: adminListen: "127.0.0.1:9000" would bind the same port as listen "127.0.0.1:9000"`},
		{"wildcard collides", "listen: :9090\n", `c.yaml: adminListen: "127.0.0.1:9090" would bind the same port as listen ":9090"`},
		{"log level", "log:\n  level: verbose\n", `c.yaml:2: log.level: must be one of debug, info, warn, error, got "verbose"`},
		{"log format", "log:\n  format: xml\n", `c.yaml:2: log.format: must be one of json, text, got "xml"`},
		{"body too small", "scim:\n  maxBodyBytes: 1023\n", `c.yaml:2: scim.maxBodyBytes: must be from 1024 (1 KiB) to 67108864 (64 MiB), got 1023`},
		{"body too big", "scim:\n  maxBodyBytes: 67108865\n", `c.yaml:2: scim.maxBodyBytes: must be from 1024`},
		{"inflight zero", "scim:\n  maxInFlight: 0\n", `c.yaml:2: scim.maxInFlight: must be from 1 to 100000, got 0`},
		{"inflight big", "scim:\n  maxInFlight: 100001\n", `c.yaml:2: scim.maxInFlight: must be from 1 to 100000, got 100001`},
		{"shutdown zero", "scim:\n  shutdownTimeout: 0s\n", `c.yaml:2: scim.shutdownTimeout: must be positive, got 0s`},
		{"shutdown no unit", "scim:\n  shutdownTimeout: 30\n", `c.yaml:2: scim.shutdownTimeout: must be a duration with a unit such as "30s" or "1m30s", got "30"`},
		{"ext id missing", "scim:\n  extensions:\n    - name: X\n      attributes: [{name: a, type: string}]\n", `c.yaml:3: scim.extensions[0].id: is required`},
		{"ext id not urn", "scim:\n  extensions:\n    - id: acme\n      attributes: [{name: a, type: string}]\n", `c.yaml:3: scim.extensions[0].id: must be a URN starting with "urn:", got "acme"`},
		{"ext id built in", "scim:\n  extensions:\n    - id: URN:ietf:params:scim:schemas:extension:enterprise:2.0:User\n      attributes: [{name: a, type: string}]\n",
			`c.yaml:3: scim.extensions[0].id: "URN:ietf:params:scim:schemas:extension:enterprise:2.0:User" is built in`},
		{"ext id core user", "scim:\n  extensions:\n    - id: urn:ietf:params:scim:schemas:core:2.0:User\n      attributes: [{name: a, type: string}]\n", `scim.extensions[0].id: "urn:ietf:params:scim:schemas:core:2.0:User" is built in`},
		{"ext id core group", "scim:\n  extensions:\n    - id: urn:ietf:params:scim:schemas:core:2.0:Group\n      attributes: [{name: a, type: string}]\n", `is built in`},
		{"ext id duplicate", ext("      attributes: [{name: a, type: string}]\n    - id: URN:ACME:EXT\n      attributes: [{name: a, type: string}]\n"),
			`c.yaml:5: scim.extensions[1].id: "URN:ACME:EXT" is already the id of scim.extensions[0]`},
		{"ext no attributes", ext(""), `c.yaml:3: scim.extensions[0].attributes: must define at least one attribute`},
		{"attr type missing", ext("      attributes:\n        - name: a\n"), `c.yaml:5: scim.extensions[0].attributes[0].type: is required: one of string, boolean, decimal, integer, dateTime, binary, reference, complex`},
		{"attr type unknown", ext("      attributes:\n        - name: a\n          type: text\n"), `c.yaml:6: scim.extensions[0].attributes[0].type: must be one of string, boolean`},
		{"attr type case", ext("      attributes:\n        - {name: a, type: datetime}\n"), `c.yaml:5: scim.extensions[0].attributes[0].type: must be one of`},
		{"attr mutability", ext("      attributes:\n        - {name: a, type: string, mutability: rw}\n"), `c.yaml:5: scim.extensions[0].attributes[0].mutability: must be one of readOnly, readWrite, immutable, writeOnly, got "rw"`},
		{"attr returned", ext("      attributes:\n        - {name: a, type: string, returned: sometimes}\n"), `scim.extensions[0].attributes[0].returned: must be one of always, never, default, request, got "sometimes"`},
		{"attr uniqueness", ext("      attributes:\n        - {name: a, type: string, uniqueness: unique}\n"), `scim.extensions[0].attributes[0].uniqueness: must be one of none, server, global, got "unique"`},
		{"complex without subs", ext("      attributes:\n        - {name: a, type: complex}\n"), `c.yaml:5: scim.extensions[0].attributes[0].subAttributes: a complex attribute needs at least one sub-attribute`},
		{"sub type", ext("      attributes:\n        - name: a\n          type: complex\n          subAttributes:\n            - {name: b, type: float}\n"),
			`c.yaml:8: scim.extensions[0].attributes[0].subAttributes[0].type: must be one of`},
		// The rest come from schema.NewSchema and point at the extension.
		{"attr name", ext("      attributes:\n        - {name: 1st, type: string}\n"), `c.yaml:3: scim.extensions[0]: attribute "1st": name must be ALPHA *(nameChar)`},
		{"attr twice", ext("      attributes:\n        - {name: a, type: string}\n        - {name: A, type: integer}\n"), `c.yaml:3: scim.extensions[0]: attribute "A": defined twice`},
		{"subs on simple", ext("      attributes:\n        - name: a\n          type: string\n          subAttributes: [{name: b, type: string}]\n"),
			`c.yaml:3: scim.extensions[0]: attribute "a": only complex attributes have sub-attributes`},
		{"nested complex", ext("      attributes:\n        - name: a\n          type: complex\n          subAttributes:\n            - name: b\n              type: complex\n              subAttributes: [{name: c, type: string}]\n"),
			`c.yaml:3: scim.extensions[0]: attribute "a.b": a complex attribute cannot contain another`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemsOf(t, tt.src)
			if len(got) != 1 {
				t.Fatalf("got %d problems, want 1 starting %q:\n%s", len(got), tt.want, strings.Join(got, "\n"))
			}
			if !strings.HasPrefix(got[0], tt.want) && !strings.Contains(got[0], tt.want) {
				t.Errorf("got  %s\nwant %s", got[0], tt.want)
			}
		})
	}
}

func TestPortZeroListeners(t *testing.T) {
	// Tests and the conformance run start the daemon with both listeners on
	// port 0; they must not be taken for a collision.
	c := Default()
	c.Listen, c.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestUnknownKeys(t *testing.T) {
	src := `dataDir: ./d
listn: 127.0.0.1:8080
log:
  Level: info
scim:
  extensions:
    - id: urn:acme:ext
      attributes:
        - name: a
          type: string
          multivalued: true
`
	want := []string{
		`c.yaml:2: listn: unknown field; known fields here: adminListen, aws, dataDir, listen, log, mapping, saml, scim, tls`,
		`c.yaml:4: log.Level: unknown field; did you mean "level"?`,
		`c.yaml:11: scim.extensions[0].attributes[0].multivalued: unknown field; did you mean "multiValued"?`,
	}
	if got := problemsOf(t, src); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTypeErrors(t *testing.T) {
	src := `listen: [a, b]
log: debug
scim:
  maxBodyBytes: lots
  maxInFlight: 1.5
  shutdownTimeout: {s: 1}
  extensions:
    - id: urn:acme:ext
      attributes:
        - name: a
          type: [string]
          required: maybe
          canonicalValues: one
`
	want := []string{
		`c.yaml:1: listen: must be a string, got a list`,
		`c.yaml:2: log: must be a mapping, got "debug"`,
		`c.yaml:4: scim.maxBodyBytes: must be a whole number, got "lots"`,
		`c.yaml:5: scim.maxInFlight: must be a whole number, got "1.5"`,
		`c.yaml:6: scim.shutdownTimeout: must be a duration such as "30s", got a mapping`,
		// No second complaint that type is missing: it failed to decode.
		`c.yaml:11: scim.extensions[0].attributes[0].type: must be a string, got a list`,
		`c.yaml:12: scim.extensions[0].attributes[0].required: must be true or false, got "maybe"`,
		`c.yaml:13: scim.extensions[0].attributes[0].canonicalValues: must be a list, got "one"`,
	}
	if got := problemsOf(t, src); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestProblemsInFileOrder(t *testing.T) {
	// Problems of every kind (unknown key, type error, invalid value, a
	// cross-field check, a duplicate) come back together, sorted by line.
	src := `scim:
  maxInFlight: -1
  extensions:
    - id: not-a-urn
      attributes:
        - {name: a, type: string, returned: rarely}
log:
  level: loud
  colour: true
adminListen: 127.0.0.1:8080
listen: 127.0.0.1:8080
dataDir: x
dataDir: y
`
	want := []string{
		`c.yaml:2: scim.maxInFlight: must be from 1 to 100000, got -1`,
		`c.yaml:4: scim.extensions[0].id: must be a URN starting with "urn:", got "not-a-urn"`,
		`c.yaml:6: scim.extensions[0].attributes[0].returned: must be one of always, never, default, request, got "rarely"`,
		`c.yaml:8: log.level: must be one of debug, info, warn, error, got "loud"`,
		`c.yaml:9: log.colour: unknown field; known fields here: format, level`,
		`c.yaml:10: adminListen: "127.0.0.1:8080" would bind the same port as listen "127.0.0.1:8080"; give the two listeners different ports`,
		`c.yaml:13: dataDir: set twice (first on line 12)`,
	}
	got := problemsOf(t, src)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, err := Parse("c.yaml", []byte(src))
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("Error() = %q, want one problem per line", err.Error())
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"listen: a\n  bad: [\n", "c.yaml:2: invalid YAML:"},
		{"- a\n- b\n", `c.yaml:1: must be a mapping, got a list`},
		{"listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n", `c.yaml:2: holds a second YAML document`},
	}
	for _, tt := range tests {
		got := problemsOf(t, tt.src)
		if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
			t.Errorf("%q: got %q, want one starting %q", tt.src, got, tt.want)
		}
	}
}

func TestAliasesAndMerge(t *testing.T) {
	src := `base: &attr {type: string, caseExact: true}
`
	if got := problemsOf(t, src); len(got) != 1 || !strings.Contains(got[0], "base: unknown field") {
		t.Fatalf("got %q", got)
	}
	src = `scim:
  extensions:
    - id: urn:acme:ext
      attributes:
        - &a {name: a, type: string, caseExact: true}
        - <<: *a
          name: b
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	attrs := c.SCIM.Extensions[0].Attributes
	if attrs[1].Name != "b" || attrs[1].Type != "string" || !attrs[1].CaseExact {
		t.Errorf("merged attribute = %+v", attrs[1])
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"f.yaml", 3, "log.level", "bad"}, "f.yaml:3: log.level: bad"},
		{Problem{"f.yaml", 0, "listen", "bad"}, "f.yaml: listen: bad"},
		{Problem{"f.yaml", 2, "", "invalid YAML"}, "f.yaml:2: invalid YAML"},
		{Problem{"", 0, "listen", "bad"}, "listen: bad"},
		{Problem{"", 4, "listen", "bad"}, "line 4: listen: bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
