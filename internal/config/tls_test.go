package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/testcert"
)

func TestTLSFilesAreRelativeToTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := testcert.Write(t, dir, "bridge.example.com")
	c, err := Parse(filepath.Join(dir, "bridge.yaml"), []byte("tls:\n  certFile: tls.crt\n  keyFile: tls.key\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.CertFile != certFile || c.TLS.KeyFile != keyFile {
		t.Errorf("tls = %+v, want %s and %s", c.TLS, certFile, keyFile)
	}
}

func TestTLSProblems(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := testcert.Write(t, dir, "bridge.example.com")
	other, _ := testcert.Write(t, t.TempDir(), "other.example.com")
	tests := []struct{ name, src, want string }{
		{"key missing", "tls:\n  certFile: " + certFile + "\n", "tls.keyFile: is required with tls.certFile"},
		{"cert missing", "tls:\n  keyFile: " + keyFile + "\n", "tls.certFile: is required with tls.keyFile"},
		{"no such file", "tls:\n  certFile: " + certFile + "\n  keyFile: " + filepath.Join(dir, "nope.key") + "\n",
			"tls: certFile " + certFile + " and keyFile " + filepath.Join(dir, "nope.key") + " do not load as a TLS key pair: open "},
		{"key of another certificate", "tls:\n  certFile: " + other + "\n  keyFile: " + keyFile + "\n",
			"do not load as a TLS key pair: tls: private key does not match public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemsOf(t, tt.src)
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Errorf("problems = %q, want one containing %q", got, tt.want)
			}
		})
	}
}
