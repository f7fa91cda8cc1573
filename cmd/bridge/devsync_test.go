package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/sagebridge/sagebridge/internal/control"
)

// cliJSON runs the CLI and decodes its JSON output into out.
func cliJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("bridge %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		t.Fatalf("bridge %s: %v:\n%s", strings.Join(args, " "), err, stdout)
	}
}

// A user pushed over SCIM into a team-* group becomes a SageMaker profile
// in dev mode's emulator, as the CLI reports through the control socket
// and as the emulator itself answers at the advertised endpoint.
func TestDevModeSyncsSCIMUsersIntoTheEmulator(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir)

	status, body, err := d.request(http.MethodPost, "/Users", newUser("alice@example.com"))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create user: %d %v %v", status, err, body)
	}
	uid := body["id"].(string)
	group := map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "team-ml",
		"members":     []any{map[string]any{"value": uid}},
	}
	if status, body, err := d.request(http.MethodPost, "/Groups", group); err != nil || status != http.StatusCreated {
		t.Fatalf("create group: %d %v %v", status, err, body)
	}

	var u control.UserStatus
	pollUntil(t, "alice to converge", func() bool {
		u = control.UserStatus{}
		cliJSON(t, &u, "status", "alice@example.com", "--json", "--data", dataDir)
		return u.Record != nil && u.Record.State == "converged" && u.Queue == nil && u.AWS != nil && u.AWS.Status == "InService"
	})
	const role = "arn:aws:iam::000000000000:role/sagebridge/sagebridge-ml-execution"
	want := map[string]string{"userId": "alice", "team": "ml", "sagebridge:managed": "true"}
	if u.ID != uid || u.Desired == nil || u.Desired.ProfileName != "alice" || u.Desired.ExecutionRoleARN != role {
		t.Errorf("desired identity: %+v", u.Desired)
	}
	if u.AWS.Name != "alice" || u.AWS.ExecutionRole != role || !equalTags(u.AWS.Tags, want) {
		t.Errorf("profile in AWS: %+v, want tags %v and role %s", u.AWS, want, role)
	}
	if u.Held || u.Record.LastError != "" {
		t.Errorf("converged user held or failing: held %v record %+v", u.Held, u.Record)
	}

	// The daemon's verification sweep enqueues a key now and then, so the
	// summary too is polled rather than read once.
	var sum control.Summary
	pollUntil(t, "the summary to say converged", func() bool {
		sum = control.Summary{}
		cliJSON(t, &sum, "status", "--json", "--data", dataDir)
		return sum.Converged
	})
	if sum.States["user"]["converged"] != 1 || sum.States["team"]["converged"] != 1 {
		t.Errorf("summary: %+v", sum)
	}
	var plan control.Plan
	cliJSON(t, &plan, "plan", "--json", "--data", dataDir)
	if len(plan.Changes) != 0 || len(plan.Warnings) != 0 || plan.Keys < 2 {
		t.Errorf("plan once converged: %+v", plan)
	}
	out, stderr, code := runCLI(t, "approve", "--data", dataDir)
	if code != 0 || !strings.Contains(out, "Nothing is held") {
		t.Errorf("approve with nothing held: exit %d: %s%s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, "approve", "user/nobody", "--data", dataDir); code != 1 || !strings.Contains(stderr, "not held") {
		t.Errorf("approve of a key that is not held: exit %d: %s", code, stderr)
	}

	checkAdminPages(t, d, uid)
	checkEmulatorAnswers(t, dataDir, role)
	checkKeyRotation(t, d, dataDir)
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, devEndpointFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s outlived the daemon: %v", devEndpointFile, err)
	}
}

// checkAdminPages reads the admin listener as an operator would: every
// readiness check passes, and the status page shows the converged user.
func checkAdminPages(t *testing.T, d *daemon, uid string) {
	t.Helper()
	for _, tt := range []struct{ path, want string }{
		{"/readyz", "ok store\nok resync\nok aws\n"},
		{"/status/", "Converged: AWS is what"},
		{"/status/users", "<td>alice@example.com</td><td><code>" + uid + "</code></td><td>yes</td>\n" +
			`<td class="state-converged">converged</td><td>ml</td><td>alice</td>`},
	} {
		resp, err := http.Get(d.admin + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), tt.want) {
			t.Errorf("GET %s: %d, want %q in:\n%s", tt.path, resp.StatusCode, tt.want, b)
		}
	}
}

// checkKeyRotation rotates the IdP signing key through the CLI: the new
// key is published beside the current one, and the sync pushes the new
// metadata to the IAM SAML provider at once.
func checkKeyRotation(t *testing.T, d *daemon, dataDir string) {
	t.Helper()
	out, stderr, code := runCLI(t, "keys", "list", "--data", dataDir)
	if code != 0 || !regexp.MustCompile(`(?m)^1 +signing `).MatchString(out) {
		t.Fatalf("keys list: exit %d: %s%s", code, out, stderr)
	}
	if out, stderr, code := runCLI(t, "keys", "rotate", "--data", dataDir); code != 0 || !strings.HasPrefix(out, "key 2 published; it signs from ") {
		t.Fatalf("keys rotate: exit %d: %s%s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, "keys", "rotate", "--data", dataDir); code == 0 || !strings.Contains(stderr, "already waiting") {
		t.Errorf("a second rotation while one waits: exit %d: %s", code, stderr)
	}
	var keys []control.KeyInfo
	cliJSON(t, &keys, "keys", "list", "--json", "--data", dataDir)
	if len(keys) != 2 || keys[0].State != "signing" || keys[1].State != "next" || keys[1].ID != "2" {
		t.Errorf("keys after rotation: %+v", keys)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, devEndpointFile))
	if err != nil {
		t.Fatal(err)
	}
	client := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(strings.TrimSpace(string(b))),
		Credentials: credentials.NewStaticCredentialsProvider("dev", "dev", "")})
	pollUntil(t, "the rotated key in the IAM SAML provider", func() bool {
		p, err := client.GetSAMLProvider(t.Context(), &iam.GetSAMLProviderInput{
			SAMLProviderArn: aws.String("arn:aws:iam::000000000000:saml-provider/sagebridge")})
		return err == nil && strings.Count(aws.ToString(p.SAMLMetadataDocument), "<ds:X509Certificate>") == 2
	})
	resp, err := http.Get(d.admin + "/status/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "published; signs from ") {
		t.Errorf("the status page does not show the waiting key:\n%s", page)
	}
}

// pollUntil calls cond until it holds, for at most 20 s. The interval only
// spaces the looks; the condition is what ends the wait.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 20s waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkEmulatorAnswers reads DATA/dev-aws-endpoint and asks the emulator
// there for alice's profile with the SDK, as a developer's script would.
func checkEmulatorAnswers(t *testing.T, dataDir, role string) {
	t.Helper()
	path := filepath.Join(dataDir, devEndpointFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sm := sagemaker.New(sagemaker.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(strings.TrimSpace(string(b))),
		Credentials: credentials.NewStaticCredentialsProvider("dev", "dev", ""),
	})
	p, err := sm.DescribeUserProfile(t.Context(), &sagemaker.DescribeUserProfileInput{
		DomainId: aws.String("d-devdomain0001"), UserProfileName: aws.String("alice")})
	if err != nil {
		t.Fatalf("the emulator at %s: %v", b, err)
	}
	if p.UserSettings == nil || aws.ToString(p.UserSettings.ExecutionRole) != role {
		t.Errorf("profile at the emulator: %+v", p.UserSettings)
	}
}

func equalTags(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
