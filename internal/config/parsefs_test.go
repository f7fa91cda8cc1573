package config

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseFSReadsPoliciesFromTheFS(t *testing.T) {
	policy, err := os.ReadFile("../../configs/policies/federation-abac.json")
	if err != nil {
		t.Fatal(err)
	}
	src := `dataDir: ./data
aws:
  accountId: "000000000000"
  region: us-east-1
  sagemaker: {domainId: d-devdomain0001}
mapping:
  userId: user.userName.split('@')[0]
  teamsFrom: {displayNamePrefix: team-}
  defaults:
    federationRole:
      policyFiles: [policies/abac.json]
`
	// No such files exist on disk at these paths: only the FS has them.
	fsys := fstest.MapFS{
		"conf/dev.yaml":            {Data: []byte(src)},
		"conf/policies/abac.json":  {Data: policy},
		"other/policies/abac.json": {Data: []byte("not JSON")},
	}
	c, err := ParseFS(fsys, "conf/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "conf/data" {
		t.Errorf("DataDir = %q, want conf/data (anchored at the file's directory)", c.DataDir)
	}
	comp, err := c.Compile()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := comp.Policies["policies/abac.json"]
	if !ok || p.Name != "abac" {
		t.Fatalf("policies = %v", comp.Policies)
	}
	// Validate after changing a field (as serve does with its flags) reads
	// the policies from the FS again, not from the disk.
	c.Listen = "127.0.0.1:0"
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestParseFSAtRootKeepsDataDirRelative(t *testing.T) {
	fsys := fstest.MapFS{"dev.yaml": {Data: []byte("dataDir: ./data\n")}}
	c, err := ParseFS(fsys, "dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "data" {
		t.Errorf("DataDir = %q, want data (relative to the working directory)", c.DataDir)
	}
}

func TestParseFSProblems(t *testing.T) {
	fsys := fstest.MapFS{"c.yaml": {Data: []byte(`aws:
  accountId: "000000000000"
  region: us-east-1
  sagemaker: {domainId: d-devdomain0001}
mapping:
  userId: user.userName
  teamsFrom: {displayNamePrefix: team-}
  defaults:
    executionRole:
      policyFiles: [missing.json]
`)}}
	_, err := ParseFS(fsys, "c.yaml")
	if err == nil || !strings.Contains(err.Error(), "c.yaml:10: mapping.defaults.executionRole.policyFiles") {
		t.Fatalf("err = %v, want the missing policy file reported at its line", err)
	}
	if _, err := ParseFS(fsys, "absent.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("absent file: err = %v, want fs.ErrNotExist", err)
	}
}
