package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/control"
)

// A configuration without aws and mapping sections serves SCIM only: the
// daemon logs why, and the sync commands get the reason over the socket.
func TestSCIMOnlyConfigSaysSyncIsDisabled(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "bridge.yaml")
	cfg := "dataDir: ./data\nlisten: 127.0.0.1:0\nadminListen: 127.0.0.1:0\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bridgeBin, "serve", "--config", cfgPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
	})
	sock := filepath.Join(dir, "data", control.SocketName)
	pollUntil(t, "the control socket", func() bool {
		_, ok := control.Dial(sock)
		return ok
	})

	for _, args := range [][]string{{"status"}, {"plan"}, {"approve"}, {"sync", "--once"}} {
		_, errOut, code := runCLI(t, append(args, "--config", cfgPath)...)
		if code != 1 || !strings.Contains(errOut, "no aws and mapping sections") || !strings.Contains(errOut, "sync is disabled") {
			t.Errorf("bridge %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not exit")
	}
	if !strings.Contains(stderr.String(), "AWS sync disabled") {
		t.Errorf("the log does not say sync is disabled:\n%s", stderr.String())
	}
}

// Without a daemon, dev mode has no AWS to sync to: the emulator lives in
// the daemon. The commands say so instead of reaching for a real account.
func TestDevSyncCommandsNeedTheDaemon(t *testing.T) {
	dataDir := t.TempDir()
	for _, args := range [][]string{{"status"}, {"status", "alice"}, {"plan"}, {"approve"}, {"sync", "--once"}} {
		_, errOut, code := runCLI(t, append(args, "--data", dataDir)...)
		if code != 1 || !strings.Contains(errOut, "emulator lives inside the daemon") {
			t.Errorf("bridge %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
	}
	if _, errOut, code := runCLI(t, "sync", "--data", dataDir); code != 2 || !strings.Contains(errOut, "--once") {
		t.Errorf("sync without --once: exit %d: %s", code, errOut)
	}
}
