package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// Problem is one mistake in a configuration: where it is and what is wrong.
type Problem struct {
	File   string // "" when the configuration came from no file
	Line   int    // 0 when the field is not in the file (a default, say)
	Field  string // dotted path such as scim.extensions[0].attributes[2].type; "" for the file as a whole
	Reason string
}

// String renders "file:line: field: reason", leaving out the parts that are
// unknown (no line, no field, no file).
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// Problems is every problem found in one configuration, in file order. It is
// the error Load, Parse and Validate return.
type Problems []Problem

// Error puts one problem on each line, ready for an operator's terminal.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sort orders problems by line; problems without a line (defaults, the file
// as a whole) come first, in the order they were found.
func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

// Allowed values, in the order messages list them.
var (
	logLevels        = []string{"debug", "info", "warn", "error"}
	logFormats       = []string{"json", "text"}
	attrTypes        = []string{"string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"}
	mutabilities     = []string{"readOnly", "readWrite", "immutable", "writeOnly"}
	returnedValues   = []string{"always", "never", "default", "request"}
	uniquenessValues = []string{"none", "server", "global"}

	// builtinURNs are schemas the bridge defines itself; an extension
	// reusing one would shadow or be shadowed by the real definition.
	builtinURNs = []string{schema.UserURN, schema.GroupURN, schema.EnterpriseURN, schema.Common.ID}
)

// Limits on the SCIM service's knobs. The body floor keeps a single User
// PUT possible; the ceilings stop a typo from turning a limit into none.
const (
	minBodyBytes    = 1 << 10
	maxBodyBytes    = 64 << 20
	maxMaxInFlight  = 100000
	placeholderURN  = "urn:sagebridge:invalid"
	schemaErrPrefix = "schema " + placeholderURN + ": "
)

// Validate checks every field and returns Problems listing all that are
// wrong, or nil. It reads the configuration and the policy files it names,
// and nothing else: no defaults are filled in, no directory is created,
// nothing is dialled.
func (c *Config) Validate() error {
	if _, ps := c.check(); len(ps) > 0 {
		return ps
	}
	return nil
}

// check is Validate that also returns the compiled mapping (nil without a
// mapping section, or when there are problems).
func (c *Config) check() (*Compiled, Problems) {
	v := &validator{file: c.Path, lines: c.lines}
	if strings.TrimSpace(c.DataDir) == "" {
		v.add("dataDir", "must not be empty")
	}
	listenOK := v.addr("listen", c.Listen)
	adminOK := v.addr("adminListen", c.AdminListen)
	if listenOK && adminOK && sameSocket(c.Listen, c.AdminListen) {
		v.add("adminListen", fmt.Sprintf("%q would bind the same port as listen %q; give the two listeners different ports", c.AdminListen, c.Listen))
	}
	c.TLS.validate(v)
	v.oneOf("log.level", c.Log.Level, logLevels, false)
	v.oneOf("log.format", c.Log.Format, logFormats, false)
	c.SCIM.validate(v)
	compiled := c.checkMapping(v)
	if c.SAML != nil {
		c.SAML.validate(v, c.AWS, c.Mapping != nil)
	}
	if len(v.problems) == 0 {
		return compiled, nil
	}
	v.problems.sort()
	return nil, v.problems
}

// validate loads the pair as the daemon will, so that config check finds
// a key that does not match its certificate before a restart does.
func (t *TLS) validate(v *validator) {
	switch {
	case t.CertFile == "" && t.KeyFile == "":
	case t.CertFile == "":
		v.add("tls.certFile", "is required with tls.keyFile")
	case t.KeyFile == "":
		v.add("tls.keyFile", "is required with tls.certFile")
	default:
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			v.add("tls", fmt.Sprintf("certFile %s and keyFile %s do not load as a TLS key pair: %v", t.CertFile, t.KeyFile, err))
		}
	}
}

func (s *SCIM) validate(v *validator) {
	if s.MaxBodyBytes < minBodyBytes || s.MaxBodyBytes > maxBodyBytes {
		v.add("scim.maxBodyBytes", fmt.Sprintf("must be from %d (1 KiB) to %d (64 MiB), got %d", minBodyBytes, maxBodyBytes, s.MaxBodyBytes))
	}
	if s.MaxInFlight < 1 || s.MaxInFlight > maxMaxInFlight {
		v.add("scim.maxInFlight", fmt.Sprintf("must be from 1 to %d, got %d", maxMaxInFlight, s.MaxInFlight))
	}
	if s.ShutdownTimeout.Duration <= 0 {
		v.add("scim.shutdownTimeout", fmt.Sprintf("must be positive, got %s", s.ShutdownTimeout))
	}
	firstID := map[string]int{}
	for i, e := range s.Extensions {
		path := fmt.Sprintf("scim.extensions[%d]", i)
		// URNs compare case-insensitively (RFC 8141), and so does the
		// SCIM handler when it looks an extension up.
		id := strings.ToLower(e.ID)
		if j, dup := firstID[id]; dup && e.ID != "" {
			v.add(path+".id", fmt.Sprintf("%q is already the id of scim.extensions[%d]", e.ID, j))
		} else {
			firstID[id] = i
		}
		e.validate(v, path)
	}
}

func (e *Extension) validate(v *validator, path string) {
	switch {
	case e.ID == "":
		v.add(path+".id", "is required: the extension's schema URN, such as urn:example:params:scim:schemas:extension:acme:2.0:User")
	case !strings.HasPrefix(strings.ToLower(e.ID), "urn:"):
		v.add(path+".id", fmt.Sprintf("must be a URN starting with \"urn:\", got %q", e.ID))
	default:
		for _, b := range builtinURNs {
			if strings.EqualFold(e.ID, b) {
				v.add(path+".id", fmt.Sprintf("%q is built in; a custom extension needs its own URN", e.ID))
			}
		}
	}
	if len(e.Attributes) == 0 {
		v.add(path+".attributes", "must define at least one attribute; an empty extension adds nothing")
	}
	for i, a := range e.Attributes {
		a.validate(v, fmt.Sprintf("%s.attributes[%d]", path, i))
	}
	// schema.NewSchema is the authority on what the SCIM service accepts
	// (attribute names, duplicates, nesting). Values already reported above
	// are replaced by valid stand-ins so that it adds only what is new.
	_, err := schema.NewSchema(placeholderURN, e.Name, e.Description, schemaAttrs(e.Attributes, true))
	if err != nil {
		for _, reason := range strings.Split(strings.TrimPrefix(err.Error(), schemaErrPrefix), "; ") {
			v.add(path, reason)
		}
	}
}

func (a *Attribute) validate(v *validator, path string) {
	if a.Type == "" {
		v.add(path+".type", "is required: one of "+strings.Join(attrTypes, ", "))
	} else {
		v.oneOf(path+".type", a.Type, attrTypes, false)
	}
	if a.Type == string(schema.Complex) && len(a.SubAttributes) == 0 {
		v.add(path+".subAttributes", "a complex attribute needs at least one sub-attribute")
	}
	v.oneOf(path+".mutability", a.Mutability, mutabilities, true)
	v.oneOf(path+".returned", a.Returned, returnedValues, true)
	v.oneOf(path+".uniqueness", a.Uniqueness, uniquenessValues, true)
	for i, sub := range a.SubAttributes {
		sub.validate(v, fmt.Sprintf("%s.subAttributes[%d]", path, i))
	}
}

// ExtensionSchemas builds the custom extension schemas for the SCIM User
// resource type. It refuses a configuration whose extensions do not
// validate, since schema.NewSchema alone would accept unknown mutability,
// returned and uniqueness values.
func (c *Config) ExtensionSchemas() ([]*schema.Schema, error) {
	v := &validator{file: c.Path, lines: c.lines}
	for i, e := range c.SCIM.Extensions {
		e.validate(v, fmt.Sprintf("scim.extensions[%d]", i))
	}
	if len(v.problems) > 0 {
		v.problems.sort()
		return nil, fmt.Errorf("build SCIM extension schemas:\n%w", v.problems)
	}
	out := make([]*schema.Schema, 0, len(c.SCIM.Extensions))
	var errs []error
	for i, e := range c.SCIM.Extensions {
		s, err := schema.NewSchema(e.ID, e.Name, e.Description, schemaAttrs(e.Attributes, false))
		if err != nil {
			errs = append(errs, fmt.Errorf("scim.extensions[%d]: %w", i, err))
			continue
		}
		out = append(out, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("build SCIM extension schemas: %w", err)
	}
	return out, nil
}

// schemaAttrs converts attribute definitions to fresh schema values (NewSchema
// fills in defaults, so the config's own values must not be shared). With
// standIns, values that Validate reports itself are swapped for valid ones.
func schemaAttrs(attrs []Attribute, standIns bool) []*schema.Attribute {
	out := make([]*schema.Attribute, len(attrs))
	for i, a := range attrs {
		s := &schema.Attribute{
			Name:            a.Name,
			Type:            schema.Type(a.Type),
			MultiValued:     a.MultiValued,
			Required:        a.Required,
			CaseExact:       a.CaseExact,
			Mutability:      schema.Mutability(a.Mutability),
			Returned:        schema.Returned(a.Returned),
			Uniqueness:      schema.Uniqueness(a.Uniqueness),
			CanonicalValues: append([]string(nil), a.CanonicalValues...),
			SubAttributes:   schemaAttrs(a.SubAttributes, standIns),
		}
		if standIns {
			if !slices.Contains(attrTypes, a.Type) {
				s.Type = schema.String
				if len(a.SubAttributes) > 0 {
					s.Type = schema.Complex
				}
			}
			s.Mutability, s.Returned, s.Uniqueness = "", "", ""
		}
		if len(s.SubAttributes) == 0 {
			s.SubAttributes = nil
		}
		out[i] = s
	}
	return out
}

// validator collects problems, attaching each to the line its field (or the
// nearest enclosing field) came from.
type validator struct {
	file     string
	lines    map[string]int
	problems Problems
}

func (v *validator) add(field, reason string) {
	v.addAt(v.line(field), field, reason)
}

// addAt records a problem at a given line. A problem already recorded is
// not repeated: a default shared by every team is reported once, not once
// per team.
func (v *validator) addAt(line int, field, reason string) {
	p := Problem{File: v.file, Line: line, Field: field, Reason: reason}
	if slices.Contains(v.problems, p) {
		return
	}
	v.problems = append(v.problems, p)
}

// line finds the field's line, or failing that its parent's: a missing
// attribute type is best shown at the attribute. Top-level fields that are
// absent from the file have no line, since they hold defaults.
func (v *validator) line(field string) int {
	for field != "" {
		if l, ok := v.lines[field]; ok {
			return l
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			return 0
		}
		field = field[:i]
	}
	return 0
}

func (v *validator) oneOf(field, value string, allowed []string, emptyOK bool) {
	if (value == "" && emptyOK) || slices.Contains(allowed, value) {
		return
	}
	v.add(field, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), value))
}

// addr checks a listener address. Port 0 is accepted: it asks the kernel
// for a free port, which tests and the conformance run rely on.
func (v *validator) addr(field, value string) bool {
	_, port, err := net.SplitHostPort(value)
	if err != nil {
		reason := err.Error()
		var ae *net.AddrError
		if errors.As(err, &ae) {
			reason = ae.Err
		}
		v.add(field, fmt.Sprintf("must be host:port such as 127.0.0.1:8080, got %q (%s)", value, reason))
		return false
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		v.add(field, fmt.Sprintf("port must be a number from 1 to 65535 (or 0 for any free port), got %q", port))
		return false
	}
	return true
}

// sameSocket reports whether two valid listener addresses would collide:
// the same port on the same host, or on any host when either is a wildcard.
// Port 0 never collides, since each listener gets its own free port.
func sameSocket(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na != nb || na == 0 {
		return false
	}
	return strings.EqualFold(ha, hb) || wildcard(ha) || wildcard(hb)
}

func wildcard(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::"
}
