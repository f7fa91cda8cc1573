package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/awsemu"
)

// serve --config takes AWS from the standard configuration chain: here the
// endpoints come from AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SAGEMAKER and
// the credentials from the environment, and point at an emulator this test
// runs, which sees the daemon create the team's roles.
func TestServeConfigSyncsToTheChainsEndpoints(t *testing.T) {
	emu := awsemu.New(awsemu.Options{AccountID: "111122223333", Region: "eu-west-1"})
	if _, err := emu.AddDomain(awsemu.Domain{ID: "d-cfgtest00001"}); err != nil {
		t.Fatal(err)
	}
	url, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })

	policies, err := filepath.Abs("../../configs/policies")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "bridge.yaml")
	cfg := fmt.Sprintf(`dataDir: ./data
listen: 127.0.0.1:0
adminListen: 127.0.0.1:0
aws:
  accountId: "111122223333"
  region: eu-west-1
  sagemaker: {domainId: d-cfgtest00001}
mapping:
  userId: user.userName.split('@')[0]
  teamsFrom: {displayNamePrefix: team-}
  defaults:
    federationRole: {policyFiles: [%s/federation-abac.json]}
`, policies)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, stderr, code := runCLI(t, "token", "create", "test", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}

	cmd := exec.Command(bridgeBin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(),
		"AWS_ENDPOINT_URL_IAM="+url, "AWS_ENDPOINT_URL_SAGEMAKER="+url,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED=true")
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	public := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "listening" {
				public <- rec["public"].(string)
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
	})
	d := &daemon{token: strings.TrimSpace(secret)}
	select {
	case addr := <-public:
		d.base = "http://" + addr + "/scim/v2"
	case err := <-done:
		t.Fatalf("daemon exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start")
	}

	status, body, err := d.request(http.MethodPost, "/Users", newUser("bob@example.com"))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create user: %d %v %v", status, err, body)
	}
	group := map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "team-vision",
		"members":     []any{map[string]any{"value": body["id"]}},
	}
	if status, body, err := d.request(http.MethodPost, "/Groups", group); err != nil || status != http.StatusCreated {
		t.Fatalf("create group: %d %v %v", status, err, body)
	}
	pollUntil(t, "the daemon to create the team's roles in the emulator", func() bool {
		_, fed := emu.Role("sagebridge-vision")
		_, exec := emu.Role("sagebridge-vision-execution")
		return fed && exec
	})
	if role, _ := emu.Role("sagebridge-vision-execution"); !strings.HasPrefix(role.Arn, "arn:aws:iam::111122223333:role/") {
		t.Errorf("execution role ARN %s", role.Arn)
	}
}
