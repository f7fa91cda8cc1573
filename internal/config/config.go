// Package config loads and checks the bridge's YAML configuration file.
//
// Loading never stops at the first mistake: Load and Parse report every
// unknown key, type mismatch and invalid value at once, each as
// "file:line: field: reason", so an operator fixes a file in one pass rather
// than one restart per typo. Loading has no side effects: it reads the file
// and the policy documents the mapping names, creates no directories and
// touches no network. The mapping's CEL expressions are compiled and type
// checked while loading (see Compiled), so a bad expression is a problem
// with its line, never a failed sign-in.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration file. Each concern gets its own nested
// section (scim, aws, mapping, saml) so that sections can grow
// without crowding the top level.
type Config struct {
	// Path is the file the configuration was loaded from; "" for Default.
	Path string `yaml:"-"`
	// DataDir holds the database and the control socket. A relative path is
	// taken relative to the configuration file's directory, so a file means
	// the same thing whatever directory the daemon is started from.
	DataDir string `yaml:"dataDir"`
	// Listen is the public listener (SCIM under /scim/v2).
	Listen string `yaml:"listen"`
	// AdminListen serves /metrics, /healthz and /readyz.
	AdminListen string `yaml:"adminListen"`
	// TLS, when its files are set, serves the public listener over TLS.
	TLS  TLS  `yaml:"tls"`
	Log  Log  `yaml:"log"`
	SCIM SCIM `yaml:"scim"`
	// AWS and Mapping are optional, but only together: without them the
	// bridge is a SCIM service that keeps no AWS account in sync.
	AWS     *AWS     `yaml:"aws"`
	Mapping *Mapping `yaml:"mapping"`
	// SAML is optional; it needs AWS and Mapping.
	SAML *SAML `yaml:"saml"`

	// lines maps each field path found in the file to its line, so that
	// Validate can point at the offending line.
	lines map[string]int
	// compiled is the mapping compiled while Parse checked it, so that the
	// expressions are compiled and the policy files read once per load.
	compiled *Compiled
	// fsys, when set, is where the policy files are read from (ParseFS);
	// nil means the operating system's file system.
	fsys fs.FS
}

// TLS names the public listener's PEM certificate (chain) and key. The
// daemon reloads them when they change, so a renewal needs no restart.
type TLS struct {
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
}

// Log configures the daemon's structured log on stderr.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // json or text
}

// SCIM configures the SCIM 2.0 service.
type SCIM struct {
	// MaxBodyBytes caps a request body; larger requests get 413.
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// MaxInFlight caps concurrent SCIM requests; more get 429.
	MaxInFlight int `yaml:"maxInFlight"`
	// ShutdownTimeout is how long in-flight requests may finish on SIGTERM.
	ShutdownTimeout Duration `yaml:"shutdownTimeout"`
	// Extensions are custom User extension schemas, such as the one an
	// Entra ID or Okta tenant sends custom attributes in.
	Extensions []Extension `yaml:"extensions"`
}

// Extension is a custom User extension schema (RFC 7643 §3.3).
type Extension struct {
	ID          string      `yaml:"id"`
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Attributes  []Attribute `yaml:"attributes"`
}

// Attribute is an attribute definition in the shape of RFC 7643 §7. Empty
// mutability, returned and uniqueness take the RFC defaults (readWrite,
// default, none).
type Attribute struct {
	Name            string      `yaml:"name"`
	Type            string      `yaml:"type"`
	MultiValued     bool        `yaml:"multiValued"`
	Required        bool        `yaml:"required"`
	CaseExact       bool        `yaml:"caseExact"`
	Mutability      string      `yaml:"mutability"`
	Returned        string      `yaml:"returned"`
	Uniqueness      string      `yaml:"uniqueness"`
	CanonicalValues []string    `yaml:"canonicalValues"`
	SubAttributes   []Attribute `yaml:"subAttributes"`
}

// Duration is a time.Duration written as a Go duration string ("30s",
// "1m30s"). A bare number is refused: "30" could mean seconds or
// nanoseconds, and guessing wrong makes a 30ns shutdown.
type Duration struct {
	time.Duration
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a duration such as \"30s\", got %s", describe(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("must be a duration with a unit such as \"30s\" or \"1m30s\", got %q", n.Value)
	}
	d.Duration = v
	return nil
}

// MarshalYAML implements yaml.Marshaler so that a Config written back out
// reads the same way.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// Defaults. The listeners are on loopback so that a file that forgets them
// exposes nothing.
const (
	DefaultDataDir         = "./data"
	DefaultListen          = "127.0.0.1:8080"
	DefaultAdminListen     = "127.0.0.1:9090"
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "json"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxInFlight     = 512
	DefaultShutdownTimeout = 30 * time.Second
)

// Default returns the configuration used without a file (development mode).
func Default() *Config {
	return &Config{
		DataDir:     DefaultDataDir,
		Listen:      DefaultListen,
		AdminListen: DefaultAdminListen,
		Log:         Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		SCIM: SCIM{
			MaxBodyBytes:    DefaultMaxBodyBytes,
			MaxInFlight:     DefaultMaxInFlight,
			ShutdownTimeout: Duration{DefaultShutdownTimeout},
		},
	}
}

// Load reads the file at path and returns its configuration: strictly
// decoded (unknown keys are errors), defaults filled in, and validated. A
// returned Problems error lists every problem found.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for a file already read; path names the file in problems
// and anchors a relative dataDir.
func Parse(path string, data []byte) (*Config, error) {
	return parse(path, data, nil)
}

// ParseFS loads the file at path in fsys, reading the policy files it names
// from fsys too (relative to the file's directory there), so that a
// configuration embedded in the binary carries its policies with it. A
// relative dataDir is anchored as by Parse: for a file at the root of fsys
// it stays relative to the working directory.
func ParseFS(fsys fs.FS, path string) (*Config, error) {
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return parse(path, data, fsys)
}

func parse(path string, data []byte, fsys fs.FS) (*Config, error) {
	c := Default()
	c.Path = path
	c.fsys = fsys
	d := &decoder{file: path, lines: map[string]int{}, bad: map[string]bool{}}
	if root := d.document(data); root != nil {
		d.decode(root, reflect.ValueOf(c).Elem(), "")
	}
	c.lines = d.lines
	if path != "" && c.DataDir != "" && !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(filepath.Dir(path), c.DataDir)
	}
	if path != "" && fsys == nil {
		dir := filepath.Dir(path)
		anchor(dir, &c.TLS.CertFile, &c.TLS.KeyFile)
		if c.SAML != nil {
			c.SAML.resolvePaths(dir)
		}
	}
	problems := d.problems
	compiled, vps := c.check()
	for _, p := range vps {
		// A field that failed to decode kept its default; judging that
		// default would only repeat the first complaint less clearly.
		if !d.bad[p.Field] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		problems.sort()
		return nil, problems
	}
	c.compiled = compiled
	return c, nil
}

// yamlErrLine matches yaml.v3's syntax errors, which carry their line only
// inside the message.
var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data into a node tree and returns its root mapping, or nil
// for an empty file or a syntax error (recorded as a problem).
func (d *decoder) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		d.syntax(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.add(extra.Line, "", "holds a second YAML document (\"---\"); a configuration file has exactly one")
	} else if !errors.Is(err, io.EOF) {
		d.syntax(err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

func (d *decoder) syntax(err error) {
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.add(line, "", "invalid YAML: "+m[2])
		return
	}
	d.add(0, "", "invalid YAML: "+err.Error())
}
