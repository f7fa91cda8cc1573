package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/awsemu"
	"github.com/sagebridge/sagebridge/internal/awsemu/awsemutest"
	"github.com/sagebridge/sagebridge/internal/control"
)

const (
	crashAccount = "111122223333"
	crashDomain  = "d-crashtest0001"
	crashUsers   = 1000
	crashTeams   = 10
	// The daemon is killed once this many profiles exist, and must not
	// have created them all by then.
	crashKillAt = 300
)

// The trust policies as IAM stores them (keys sorted, one-element arrays
// collapsed): the federation role trusts the SAML provider through AWS
// sign-in with the mapping's session tag keys; the execution role trusts
// SageMaker.
var (
	crashFederationTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Federated":"arn:aws:iam::` + crashAccount + `:saml-provider/sagebridge"},
		"Action":["sts:AssumeRoleWithSAML","sts:SetSourceIdentity","sts:TagSession"],
		"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},
			"ForAllValues:StringEquals":{"aws:TagKeys":["team","userId"]}}}]}`
	crashExecutionTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// The built daemon, in config mode against an emulator on loopback, is
// SIGKILLed while it converges 1,000 users pushed over SCIM, and restarted
// on the same data directory: it converges, every acknowledged user and
// membership is there, every user has exactly one profile with its tags
// and its team's execution role, and nothing was created twice.
func TestSIGKILLWhileConvergingLosesNothingAndCreatesNothingTwice(t *testing.T) {
	emu, env := emulatedAWS(t)
	cfgPath := writeCrashConfig(t)
	token := createToken(t, cfgPath)

	start := time.Now()
	d := startConfigDaemon(t, cfgPath, token, env)
	users, groups := pushCrashTeams(t, d)
	pushed := time.Now()
	created := killMidway(t, emu, d)
	killed := time.Now()

	d2 := startConfigDaemon(t, cfgPath, token, env)
	// The emulator is cheap to ask; the CLI is asked once AWS is done.
	pollUntil(t, "every profile to be in service", func() bool {
		n := 0
		for _, p := range emu.Snapshot().Profiles {
			if p.Status == "InService" {
				n++
			}
		}
		return n == crashUsers
	})
	pollUntil(t, "the restarted daemon to report convergence", func() bool {
		var sum control.Summary
		cliJSON(t, &sum, "status", "--json", "--config", cfgPath)
		return sum.Converged && sum.States["user"]["converged"] == crashUsers && sum.States["team"]["converged"] == crashTeams
	})
	t.Logf("pushed in %s; SIGKILL %s later with %d of %d profiles created; converged %s after the restart",
		pushed.Sub(start).Round(time.Millisecond), killed.Sub(pushed).Round(time.Millisecond), created, crashUsers,
		time.Since(killed).Round(time.Millisecond))
	checkAllPresent(t, d2, users)
	checkCrashGroups(t, d2, groups)
	checkCrashAWS(t, emu)
}

// emulatedAWS starts an emulator with the account and domain of
// writeCrashConfig and returns the environment that points the daemon's
// standard AWS configuration chain at it, and nowhere else.
func emulatedAWS(t *testing.T) (*awsemu.Emulator, []string) {
	t.Helper()
	emu, url := awsemutest.Start(t, awsemu.Options{AccountID: crashAccount, Domains: []awsemu.Domain{{ID: crashDomain}}})
	return emu, []string{
		"AWS_ENDPOINT_URL_IAM=" + url, "AWS_ENDPOINT_URL_SAGEMAKER=" + url,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
	}
}

// createToken creates a SCIM token in the database of cfgPath.
func createToken(t *testing.T, cfgPath string) string {
	t.Helper()
	secret, stderr, code := runCLI(t, "token", "create", "idp", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	return strings.TrimSpace(secret)
}

func writeCrashConfig(t *testing.T) string {
	t.Helper()
	policies, err := filepath.Abs("../../configs/policies")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// configs/dev.yaml's mapping; the verification sweep is off, so that
	// the summary's convergence depends on the queue alone.
	cfg := fmt.Sprintf(`dataDir: %s
listen: 127.0.0.1:0
adminListen: 127.0.0.1:0
aws:
  accountId: %q
  region: us-east-1
  sagemaker: {domainId: %s}
  rateLimits: {iam: 200, sagemaker: 1000}
  sync: {workers: 8, pollInterval: 100ms, verifyRate: 0}
mapping:
  userId: user.userName.split('@')[0]
  teamsFrom: {displayNamePrefix: team-}
  transitiveTagKeys: [userId]
  defaults:
    federationRole: {policyFiles: [%s/federation-abac.json]}
`, filepath.Join(dir, "data"), crashAccount, crashDomain, policies)
	path := filepath.Join(dir, "bridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startConfigDaemon runs `bridge serve --config` with env added to the
// test's environment and returns once it listens, on https when the
// daemon says it serves TLS. Its log lines are kept in d.logs. The daemon is killed at
// cleanup if the test has not stopped it.
func startConfigDaemon(t *testing.T, cfgPath, token string, env []string) *daemon {
	t.Helper()
	cmd := exec.Command(bridgeBin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, token: token, done: make(chan error, 1), logs: &logLines{}}
	public := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			d.logs.add(sc.Text())
			var rec struct {
				Msg, Public string
				TLS         bool `json:"tls"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				scheme := "http://"
				if rec.TLS {
					scheme = "https://"
				}
				public <- scheme + rec.Public
			}
		}
		// Drain what a line too long for the scanner left, so the daemon
		// never blocks on its log; Wait only after the last read.
		io.Copy(io.Discard, logs)
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.Process.Kill() == nil {
			<-d.done
		}
	})
	select {
	case origin := <-public:
		d.base = origin + "/scim/v2"
	case err := <-d.done:
		t.Fatalf("daemon exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start")
	}
	return d
}

func crashUserName(i int) string { return fmt.Sprintf("crash-%04d@example.com", i) }
func crashTeam(i int) string     { return fmt.Sprintf("%02d", i%crashTeams) }

// pushCrashTeams creates the users from a few clients, as an IdP's
// provisioning does, then one group team-NN per team with its members
// (user i is in team i mod 10). It returns the users and the groups'
// member counts by id, as the daemon acknowledged them.
func pushCrashTeams(t *testing.T, d *daemon) (users map[string]string, groups map[string]int) {
	t.Helper()
	ids := make([]string, crashUsers)
	next := make(chan int)
	errs := make(chan error, crashUsers)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				status, body, err := d.request(http.MethodPost, "/Users", newUser(crashUserName(i)))
				if err != nil || status != http.StatusCreated {
					errs <- fmt.Errorf("create %s: %d %v %v", crashUserName(i), status, err, body)
					continue
				}
				ids[i] = body["id"].(string)
			}
		})
	}
	for i := range crashUsers {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	users = make(map[string]string, crashUsers)
	members := map[string][]any{}
	for i, id := range ids {
		users[id] = crashUserName(i)
		members[crashTeam(i)] = append(members[crashTeam(i)], map[string]any{"value": id})
	}
	groups = map[string]int{}
	for team, ms := range members {
		g := map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "team-" + team,
			"members":     ms,
		}
		status, body, err := d.request(http.MethodPost, "/Groups", g)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create group team-%s: %d %v %v", team, status, err, body)
		}
		groups[body["id"].(string)] = len(ms)
	}
	return users, groups
}

// killMidway SIGKILLs the daemon as soon as the emulator has created
// crashKillAt profiles, and fails if the sync had created all of them
// before it could: then the test would prove nothing about a crash.
func killMidway(t *testing.T, emu *awsemu.Emulator, d *daemon) int {
	t.Helper()
	created := func() int { return emu.Outcomes()[awsemu.Outcome{Op: "CreateUserProfile", Result: "ok"}] }
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for created() < crashKillAt {
		select {
		case <-tick.C:
		case err := <-d.done:
			t.Fatalf("the daemon exited before the kill: %v", err)
		case <-deadline:
			t.Fatalf("only %d profiles created after 30s", created())
		}
	}
	d.stop(t, syscall.SIGKILL)
	n := created()
	if n >= crashUsers {
		t.Fatalf("the sync created all %d profiles before the SIGKILL landed: nothing was left to recover", n)
	}
	return n
}

// checkCrashGroups checks that every acknowledged group kept its members.
func checkCrashGroups(t *testing.T, d *daemon, groups map[string]int) {
	t.Helper()
	for id, want := range groups {
		status, body, err := d.request(http.MethodGet, "/Groups/"+id, nil)
		members, _ := body["members"].([]any)
		if err != nil || status != http.StatusOK || len(members) != want {
			t.Errorf("group %s after the restart: status %d err %v, %d members, want %d", id, status, err, len(members), want)
		}
	}
}

// checkCrashAWS checks AWS as the emulator holds it: one profile per user
// with its tags and its team's execution role, both roles of every team
// with the exact trust policies, and no create that met an existing
// resource (which a second create of one resource would).
func checkCrashAWS(t *testing.T, emu *awsemu.Emulator) {
	t.Helper()
	snap := emu.Snapshot()
	if len(snap.Profiles) != crashUsers || len(snap.Roles) != 2*crashTeams {
		t.Fatalf("%d profiles and %d roles; want %d and %d", len(snap.Profiles), len(snap.Roles), crashUsers, 2*crashTeams)
	}
	roles := map[string]awsemu.RoleState{}
	for _, r := range snap.Roles {
		roles[r.Name] = r
	}
	for i := range crashTeams {
		team := crashTeam(i)
		for name, want := range map[string]string{"sagebridge-" + team: crashFederationTrust, "sagebridge-" + team + "-execution": crashExecutionTrust} {
			if r, ok := roles[name]; !ok || !sameJSON(t, r.TrustPolicy, want) {
				t.Errorf("role %s: present %v, trust policy %s", name, ok, r.TrustPolicy)
			}
		}
	}
	profiles := map[string]awsemu.ProfileState{}
	for _, p := range snap.Profiles {
		profiles[p.Name] = p
	}
	for i := range crashUsers {
		name, _, _ := strings.Cut(crashUserName(i), "@")
		p, ok := profiles[name]
		tags := map[string]string{}
		for _, tag := range p.Tags {
			tags[tag.Key] = tag.Value
		}
		want := map[string]string{"userId": name, "team": crashTeam(i), "sagebridge:managed": "true"}
		role := roles["sagebridge-"+crashTeam(i)+"-execution"].Arn
		if !ok || p.DomainID != crashDomain || !reflect.DeepEqual(tags, want) || p.ExecutionRole != role || p.Status != "InService" {
			t.Errorf("profile %s: present %v, %s, tags %v, role %s; want tags %v, role %s", name, ok, p.Status, tags, p.ExecutionRole, want, role)
		}
	}
	ok := map[string]int{}
	for o, n := range emu.Outcomes() {
		switch {
		case !strings.HasPrefix(o.Op, "Create"):
		case o.Result == "ok":
			ok[o.Op] += n
		case o.Result == "EntityAlreadyExists" || o.Result == "ResourceInUse":
			// No fault is injected, so no retry meets its own create; and
			// the sync records a profile's name before creating it, and
			// reads first whatever already has a name, so a create cut
			// short by the kill is read, not sent again.
			t.Errorf("%d %s calls met an existing resource (%s)", n, o.Op, o.Result)
		}
	}
	if ok["CreateUserProfile"] != len(snap.Profiles) || ok["CreateRole"] != len(snap.Roles) || ok["CreateSAMLProvider"] != len(snap.SAMLProviders) {
		t.Errorf("successful creates %v for %d profiles, %d roles, %d SAML providers", ok, len(snap.Profiles), len(snap.Roles), len(snap.SAMLProviders))
	}
}

// sameJSON reports whether two JSON documents are equal once parsed.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Errorf("parse %s: %v", a, err)
		return false
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("parse %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}
