package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/testcert"
)

// The tls section reaches the public listener: SCIM is served over TLS
// with the configured certificate, and plain HTTP is not served there.
func TestServeConfigServesSCIMOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, _ := testcert.Write(t, dir, "bridge.test")
	cfgPath := filepath.Join(dir, "bridge.yaml")
	cfg := "dataDir: ./data\nlisten: 127.0.0.1:0\nadminListen: 127.0.0.1:0\ntls:\n  certFile: tls.crt\n  keyFile: tls.key\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startConfigDaemon(t, cfgPath, createToken(t, cfgPath), nil)
	if !strings.HasPrefix(d.base, "https://") {
		t.Fatalf("the daemon listens on %s, want https", d.base)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	d.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "bridge.test"}}}

	status, body, err := d.request("POST", "/Users", newUser("tls@example.com"))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create over TLS: %d %v %v", status, body, err)
	}
	plain := strings.Replace(d.base, "https://", "http://", 1)
	resp, err := http.Get(plain + "/ServiceProviderConfig")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS listener: %d, want 400", resp.StatusCode)
	}
}
