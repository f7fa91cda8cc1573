package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/sagebridge/sagebridge/configs"
	"github.com/sagebridge/sagebridge/internal/awsemu"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// engineEnv is the CLI's own engine (as without a daemon) over a bbolt
// store and the emulator, reached through the real SDK clients.
type engineEnv struct {
	ctx context.Context
	cfg *config.Config
	emu *awsemu.Emulator
	st  *boltstore.Store
	eng *engine
	sm  *sagemaker.Client
	// newEngine builds another engine over the same store and AWS, as a
	// second CLI process would.
	newEngine func() *engine
}

func newEngineEnv(t *testing.T) *engineEnv {
	t.Helper()
	ctx := t.Context()
	cfg, err := config.ParseFS(configs.FS, configs.DevPath)
	if err != nil {
		t.Fatal(err)
	}
	emu := awsemu.New(awsemu.Options{AccountID: cfg.AWS.AccountID, Region: cfg.AWS.Region})
	if _, err := emu.AddDomain(awsemu.Domain{ID: cfg.AWS.SageMaker.DomainID}); err != nil {
		t.Fatal(err)
	}
	url, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	st, err := boltstore.Open(filepath.Join(t.TempDir(), dbName), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := newAWSClients(ctx, cfg, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	build := func() *engine {
		eng, err := newEngine(cfg, st, clients.IAM, clients.SageMaker, engineOptions{dev: true, local: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := eng.stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
		return eng
	}
	return &engineEnv{ctx: ctx, cfg: cfg, emu: emu, st: st, eng: build(), sm: clients.SageMaker, newEngine: build}
}

// converge runs a pass of the engine until it converges.
func (e *engineEnv) converge(t *testing.T) control.Summary {
	t.Helper()
	if err := e.eng.Resync(e.ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := waitConverged(e.ctx, e.eng, 20*time.Second)
	if err != nil || !sum.Converged {
		t.Fatalf("not converged: %v %+v", err, sum)
	}
	return sum
}

func (e *engineEnv) addUserInTeam(t *testing.T, id, userName, team string) {
	t.Helper()
	data := `{"userName":"` + userName + `","active":true}`
	if _, err := e.st.CreateUser(e.ctx, store.User{ID: id, UserName: userName, Active: true, Data: []byte(data)}); err != nil {
		t.Fatal(err)
	}
	g := store.Group{ID: "g-" + team, DisplayName: "team-" + team, Data: []byte(`{}`)}
	if _, err := e.st.CreateGroup(e.ctx, g, []string{id}); err != nil {
		t.Fatal(err)
	}
}

func ops(kp control.KeyPlan) []string {
	var out []string
	for _, a := range kp.Actions {
		out = append(out, a.Op+" "+a.Resource)
	}
	return out
}

// A plan runs the sync's reconcilers with writes recorded, not made: it
// lists what the first sync creates, makes no write call, and is empty
// once the sync has converged. --full reads AWS where the sync trusts its
// records, and so finds a change made behind the sync's back.
func TestPlanIsADryRunOfTheSync(t *testing.T) {
	e := newEngineEnv(t)
	e.addUserInTeam(t, "u1", "alice@example.com", "ml")

	p, err := e.eng.Plan(e.ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.emu.WriteCalls(); n != 0 {
		t.Fatalf("plan made %d write calls: %v", n, e.emu.Calls())
	}
	byKey := map[string]control.KeyPlan{}
	for _, kp := range p.Changes {
		if kp.Error != "" {
			t.Errorf("%s: %s", kp.Key, kp.Error)
		}
		byKey[kp.Key] = kp
	}
	team := ops(byKey["team/ml"])
	for _, want := range []string{"CreateRole sagebridge-ml", "PutRolePolicy sagebridge-ml", "CreateRole sagebridge-ml-execution"} {
		if !slices.Contains(team, want) {
			t.Errorf("team/ml plan %v lacks %q", team, want)
		}
	}
	user := byKey["user/u1"]
	wantRole := "ExecutionRole arn:aws:iam::000000000000:role/sagebridge/sagebridge-ml-execution"
	if len(user.Actions) != 1 || user.Actions[0].Op != "CreateUserProfile" || user.Actions[0].Resource != "alice" ||
		user.Actions[0].Detail != wantRole+"; tags sagebridge:managed,team,userId" {
		t.Errorf("user/u1 plan = %+v", user)
	}

	e.converge(t)
	for _, full := range []bool{false, true} {
		if p, err := e.eng.Plan(e.ctx, full); err != nil || len(p.Changes) != 0 || len(p.Warnings) != 0 {
			t.Fatalf("plan (full %v) after convergence: %v %+v", full, err, p)
		}
	}

	prof, _ := e.emu.Profile(e.cfg.AWS.SageMaker.DomainID, "alice")
	_, err = e.sm.AddTags(e.ctx, &sagemaker.AddTagsInput{ResourceArn: &prof.Arn, Tags: []smtypes.Tag{{Key: ptr("team"), Value: ptr("other")}}})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.eng.Plan(e.ctx, false); err != nil || len(p.Changes) != 0 {
		t.Fatalf("plan trusting the records: %v %+v", err, p)
	}
	p, err = e.eng.Plan(e.ctx, true)
	if err != nil || len(p.Changes) != 1 || !slices.Equal(ops(p.Changes[0]), []string{"AddTags alice"}) {
		t.Fatalf("plan --full after a tag changed by hand: %v %+v", err, p)
	}
}

func ptr(s string) *string { return &s }

// status USER reads the user's identity, record, profile and queue entry;
// after the user is deleted from the store its key still finds the record
// and the suspended profile, which waits for the grace period.
func TestUserStatusFollowsDeprovisioning(t *testing.T) {
	e := newEngineEnv(t)
	e.addUserInTeam(t, "u1", "alice@example.com", "ml")
	e.converge(t)
	u, err := e.eng.User(e.ctx, "alice@example.com")
	if err != nil || u.Record == nil || u.Record.State != "converged" || u.AWS == nil || u.AWS.Tags["userId"] != "alice" || u.Queue != nil {
		t.Fatalf("alice: %v %+v", err, u)
	}

	if err := e.st.DeleteUser(e.ctx, "u1", 0); err != nil {
		t.Fatal(err)
	}
	e.converge(t)
	u, err = e.eng.User(e.ctx, "user/u1")
	if err != nil || u.Record == nil || u.Record.State != "suspended" || u.Desired != nil || u.DesiredError == "" {
		t.Fatalf("deleted alice: %v %+v", err, u)
	}
	if u.AWS == nil || !u.AWS.Exists || u.AWS.Tags["userId"] != "" || u.Queue == nil {
		t.Fatalf("deleted alice's profile should be suspended and queued for the grace period: aws %+v queue %+v", u.AWS, u.Queue)
	}
	if _, err := e.eng.User(e.ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

// A deletion held by the threshold is recorded; approve in another process
// (the CLI with no daemon) finds it there, releases it, and waits until it
// has run.
func TestApproveReleasesAHeldDeletionFromAnotherProcess(t *testing.T) {
	e := newEngineEnv(t)
	e.addUserInTeam(t, "u1", "alice@example.com", "ml")
	e.converge(t)
	// Without its group the team is no longer wanted: deleting both of its
	// two managed roles is over dev.yaml's 10 percent.
	if err := e.st.DeleteGroup(e.ctx, "g-ml", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Resync(e.ctx); err != nil {
		t.Fatal(err)
	}
	var sum control.Summary
	pollUntil(t, "the team's deletion to be held", func() bool {
		var err error
		sum, err = e.eng.Summary(e.ctx)
		return err == nil && slices.Equal(sum.Held, []string{"team/ml"})
	})
	if sum.Converged {
		t.Fatalf("converged with a held deletion: %+v", sum)
	}
	if err := e.eng.stop(); err != nil {
		t.Fatal(err)
	}

	e.eng = e.newEngine()
	if a, err := e.eng.Approve(e.ctx, []string{"team/other"}); err != nil || len(a.Approved) != 0 || !slices.Equal(a.NotHeld, []string{"team/other"}) {
		t.Fatalf("approve of a key not held: %v %+v", err, a)
	}
	a, err := e.eng.Approve(e.ctx, nil)
	if err != nil || !slices.Equal(a.Approved, []string{"team/ml"}) {
		t.Fatalf("approve: %v %+v", err, a)
	}
	sum, err = waitConverged(e.ctx, e.eng, 20*time.Second)
	if err != nil || !sum.Converged {
		t.Fatalf("not converged after approval: %v %+v", err, sum)
	}
	if _, ok := e.emu.Role("sagebridge-ml"); ok {
		t.Error("the approved deletion left the federation role")
	}
}

func TestPacing(t *testing.T) {
	tune := config.SyncTuning{Workers: 7, ResyncInterval: config.Duration{Duration: 2 * time.Hour}, VerifyRate: 0.5,
		PollInterval: config.Duration{Duration: 3 * time.Second}}
	off := tune
	off.VerifyRate = 0
	for _, tt := range []struct {
		name string
		tune config.SyncTuning
		eo   engineOptions
		want string
	}{
		{"configured", tune, engineOptions{}, "workers 7 resync 2h0m0s verify 0.5 poll 3s"},
		{"sweep off", off, engineOptions{}, "workers 7 resync 2h0m0s verify -1 poll 3s"},
		{"dev polls fast", tune, engineOptions{dev: true}, "workers 7 resync 2h0m0s verify 0.5 poll 200ms"},
		{"the CLI's engine only drains the queue", tune, engineOptions{local: true}, "workers 7 resync -1ns verify -1 poll 3s"},
	} {
		o := pacing(tt.tune, tt.eo)
		got := fmt.Sprintf("workers %d resync %s verify %g poll %s", o.Workers, o.ResyncInterval, o.VerifyRate, o.PollInterval)
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
