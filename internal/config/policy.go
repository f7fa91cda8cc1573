package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"unicode"
)

// PolicyFile is an inline policy document template, read and parsed when
// the configuration is loaded so that nothing reads files later.
type PolicyFile struct {
	// Name is the inline policy's name: the file name without .json/.tmpl.
	Name string
	// Path is the file as resolved against the configuration's directory.
	Path string
	tmpl *template.Template
}

// PolicyData is what a policy template can refer to.
type PolicyData struct {
	Team      string
	AccountID string
	DomainID  string
	Region    string
	Partition string
}

// Render fills the template in and checks that the result is a policy IAM
// would accept (see checkPolicy).
func (p *PolicyFile) Render(d PolicyData) (string, error) {
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render policy %s: %w", p.Path, err)
	}
	doc := b.String()
	if err := checkPolicy(doc); err != nil {
		return "", fmt.Errorf("policy %s for team %q: %w", p.Path, d.Team, err)
	}
	return doc, nil
}

// policyName derives the inline policy name from a file name.
func policyName(path string) string {
	name := filepath.Base(path)
	for _, ext := range []string{".tmpl", ".json"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// loadPolicy reads and parses one policy file. dir anchors a relative path,
// like dataDir, so a file means the same from any working directory. With
// fsys the file is read from there (fs.FS paths are always relative).
func loadPolicy(fsys fs.FS, dir, path string) (*PolicyFile, error) {
	resolved := path
	if !filepath.IsAbs(path) {
		resolved = filepath.Join(dir, path)
	}
	var data []byte
	var err error
	if fsys != nil {
		data, err = fs.ReadFile(fsys, filepath.ToSlash(resolved))
	} else {
		data, err = os.ReadFile(resolved)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read policy file: %w", err)
	}
	tmpl, err := template.New(filepath.Base(path)).Option("missingkey=error").Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("invalid template: %w", err)
	}
	p := &PolicyFile{Name: policyName(path), Path: resolved, tmpl: tmpl}
	if err := CheckPolicyName(p.Name); err != nil {
		return nil, fmt.Errorf("the inline policy name comes from the file name: %w", err)
	}
	return p, nil
}

// checkPolicy applies what IAM checks of a policy document before it looks
// at the grammar (MalformedPolicyDocument otherwise): JSON, an object with
// Statement, and the allowed characters. Version 2012-10-17 is required
// because the ABAC policies use policy variables such as
// ${aws:PrincipalTag/userId}, which the older default version treats as
// literal text.
func checkPolicy(doc string) error {
	for _, r := range doc {
		if r > 0xFF || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') {
			return fmt.Errorf("holds %q; IAM accepts only tab, newline, carriage return and U+0020-U+00FF", r)
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &obj); err != nil {
		return fmt.Errorf("is not a JSON object: %w", err)
	}
	if _, ok := obj["Statement"]; !ok {
		return fmt.Errorf("has no Statement")
	}
	var version string
	if err := json.Unmarshal(obj["Version"], &version); err != nil || version != "2012-10-17" {
		return fmt.Errorf("must say \"Version\": \"2012-10-17\" (policy variables need it)")
	}
	return nil
}

// policySize is the size IAM counts against its quotas: characters other
// than whitespace.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}
