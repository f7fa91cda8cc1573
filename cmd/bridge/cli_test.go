package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bridgeBin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// The same token commands work against a running daemon (through its
// socket) and against a stopped one (opening the file).
func TestTokenLifecycleWithAndWithoutDaemon(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir)

	secret, stderr, code := runCLI(t, "token", "create", "okta", "--data", dataDir)
	if code != 0 {
		t.Fatalf("token create via socket: exit %d: %s", code, stderr)
	}
	okta := &daemon{base: d.base, token: strings.TrimSpace(secret)}
	if status, _, _ := okta.request(http.MethodGet, "/Users", nil); status != http.StatusOK {
		t.Fatalf("new token: status %d", status)
	}
	if _, stderr, code := runCLI(t, "token", "create", "okta", "--data", dataDir); code == 0 {
		t.Fatalf("duplicate token name accepted: %s", stderr)
	}
	out, _, _ := runCLI(t, "token", "list", "--data", dataDir)
	if !strings.Contains(out, "okta") || !strings.Contains(out, "dev") || strings.Contains(out, okta.token) {
		t.Fatalf("token list:\n%s", out)
	}
	if _, stderr, code := runCLI(t, "token", "revoke", "okta", "--data", dataDir); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	if status, body, _ := okta.request(http.MethodGet, "/Users", nil); status != http.StatusUnauthorized || body["status"] != "401" {
		t.Fatalf("revoked token: status %d body %v", status, body)
	}

	backup := filepath.Join(t.TempDir(), "running.db")
	if _, stderr, code := runCLI(t, "backup", backup, "--data", dataDir); code != 0 {
		t.Fatalf("backup while running: %s", stderr)
	}
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// The backup is a complete database: a daemon started on it knows the
	// dev token and the revocation.
	restored := t.TempDir()
	if err := os.Rename(backup, filepath.Join(restored, dbName)); err != nil {
		t.Fatal(err)
	}
	if _, _, code := runCLI(t, "token", "revoke", "okta", "--data", restored); code == 0 {
		t.Fatal("revoked token still present in the backup")
	}
	if _, stderr, code := runCLI(t, "token", "create", "entra", "--data", dataDir); code != 0 {
		t.Fatalf("token create without daemon: %s", stderr)
	}
	out, _, _ = runCLI(t, "token", "list", "--data", dataDir)
	if !strings.Contains(out, "entra") {
		t.Fatalf("token list without daemon:\n%s", out)
	}
	if _, stderr, code := runCLI(t, "backup", filepath.Join(t.TempDir(), "x.db"), "--data", t.TempDir()); code == 0 {
		t.Fatalf("backup of an empty directory succeeded: %s", stderr)
	}
}

func TestServeNeedsConfigOrDev(t *testing.T) {
	if _, stderr, code := runCLI(t, "serve"); code != 2 || !strings.Contains(stderr, "--config") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestConfigCheckReportsEveryProblem(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	content := "listen: nowhere\nadminListen: 127.0.0.1:99999\nbogus: 1\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "config", "check", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{bad + ":1: listen:", bad + ":2: adminListen:", bad + ":3: bogus:"} {
		if !strings.Contains(out, want) {
			t.Errorf("config check output lacks %q:\n%s", want, out)
		}
	}
	good, _, code := runCLI(t, "config", "check", "../../configs/dev.yaml")
	if code != 0 || !strings.Contains(good, "ok") {
		t.Fatalf("dev.yaml: exit %d: %s", code, good)
	}
}
