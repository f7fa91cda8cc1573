package configtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
)

// configsDir is configs/, seen from this package's directory.
const configsDir = ".."

// notBridgeConfigs are the directories of configs/ whose files are not
// bridge configurations (Prometheus rules, a Grafana dashboard, IAM and
// ABAC policy documents, a systemd unit, these tests). Everything else
// ending in .yaml or .yml is a bridge configuration and must pass the
// check: a new example is tested the moment it is added, wherever it is.
var notBridgeConfigs = []string{"configtest", "grafana", "iam", "policies", "prometheus", "systemd"}

// mustFind are configurations the walk has to meet, so that a walk gone
// wrong (a moved directory, a new skip) cannot pass by checking nothing.
var mustFind = []string{"bridge.example.yaml", "dev.yaml", "entra.yaml", "okta.yaml"}

// bridgeConfigs lists every bridge configuration under configs/.
func bridgeConfigs(t *testing.T) []string {
	t.Helper()
	for _, d := range notBridgeConfigs {
		if fi, err := os.Stat(filepath.Join(configsDir, d)); err != nil || !fi.IsDir() {
			t.Errorf("configs/%s is listed in notBridgeConfigs but is not a directory: remove it from the list", d)
		}
	}
	var found []string
	err := filepath.WalkDir(configsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(configsDir, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if slices.Contains(notBridgeConfigs, filepath.ToSlash(rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range mustFind {
		if !slices.Contains(found, f) {
			t.Errorf("configs/%s not found among %q", f, found)
		}
	}
	return found
}

// checkConfig loads a configuration of configs/ as `bridge config check`
// does (config.Load: strict decoding, defaults, Validate with every problem
// as file:line: field: reason, the CEL expressions compiled and the policy
// files rendered), and builds from it the mapping the sync and sign-in
// would use (mapping.New). m is nil for a SCIM-only configuration.
func checkConfig(t *testing.T, rel string) (cfg *config.Config, m *mapping.Mapping) {
	t.Helper()
	path := filepath.Join(configsDir, filepath.FromSlash(rel))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("bridge config check %s:\n%v", path, err)
	}
	if cfg.AWS == nil || cfg.Mapping == nil {
		return cfg, nil
	}
	if m, err = mapping.New(cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg, m
}

func TestBridgeConfigsPassConfigCheck(t *testing.T) {
	for _, rel := range bridgeConfigs(t) {
		t.Run(rel, func(t *testing.T) { checkConfig(t, rel) })
	}
}

// The IdP examples show provisioning and sign-in together, for production:
// not relying on the loopback exception dev mode has for plain http.
func TestIdPExamplesAreProductionReady(t *testing.T) {
	for _, rel := range []string{"okta.yaml", "entra.yaml"} {
		t.Run(rel, func(t *testing.T) {
			cfg, m := checkConfig(t, rel)
			if m == nil || cfg.SAML == nil {
				t.Fatal("want the aws, mapping and saml sections: the example shows provisioning and sign-in")
			}
			if !strings.HasPrefix(cfg.SAML.BaseURL, "https://") {
				t.Errorf("saml.baseURL %q is not https", cfg.SAML.BaseURL)
			}
		})
	}
}
