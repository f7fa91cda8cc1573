package sync

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/prometheus/client_golang/prometheus"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/awsemu"
	"github.com/sagebridge/sagebridge/internal/awsemu/awsemutest"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// The integration tests run the Syncer against awsemu through the real SDK
// clients (internal/aws.New pointed at the emulator), over a real bbolt
// store. They run on the wall clock (the SDK talks HTTP on loopback) with
// short poll and backoff intervals; a skewClock lets a test jump past the
// deprovisioning grace period.

const (
	itAccount = "123456789012"
	itDomain  = "d-itdomain01"
	itOwner   = "sagebridge:managed"
	// itRate is the client rate limit of each API, in calls per second:
	// high enough not to slow the tests down much.
	itRate = 1000.0
)

// skewClock is the wall clock plus an offset a test can move forward. The
// store, the controller and the syncer share it, so queue due times stay
// consistent.
type skewClock struct {
	mu   gosync.Mutex
	skew time.Duration
}

func (c *skewClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *skewClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew += d
}

type itConfig struct {
	grace         string
	deletionCount int
	faults        awsemu.Faults
	// async and roleVisibility are the emulator's; zero values step
	// through every transitional state once.
	async, roleVisibility awsemu.Transition
	// propagationWindow is the syncer's; default a minute.
	propagationWindow time.Duration
}

type itEnv struct {
	t      *testing.T
	ctx    context.Context
	emu    *awsemu.Emulator
	st     *boltstore.Store
	status StatusStore
	s      *Syncer
	reg    *prometheus.Registry
	clock  *skewClock
	// iam and sm are the SDK clients, for tests that arrange AWS state
	// behind the sync's back.
	iam *iam.Client
	sm  *sagemaker.Client

	mdMu gosync.Mutex
	md   []byte
}

func (e *itEnv) metadata() ([]byte, error) {
	e.mdMu.Lock()
	defer e.mdMu.Unlock()
	return e.md, nil
}

func (e *itEnv) setMetadata(md []byte) {
	e.mdMu.Lock()
	defer e.mdMu.Unlock()
	e.md = md
}

func itConfigYAML(c itConfig) string {
	policies, _ := filepath.Abs("../../configs/policies")
	return fmt.Sprintf(`
aws:
  accountId: %q
  region: us-east-1
  sagemaker:
    domainId: %s
  deprovision:
    grace: %s
  deletionThreshold:
    count: %d
    percent: 100
    window: 1h
  rateLimits: {iam: %g, sagemaker: %g}
mapping:
  userId: user.userName.split('@')[0]
  teamsFrom:
    displayNamePrefix: team-
  transitiveTagKeys: [userId]
  defaults:
    federationRole:
      policyFiles: [%s/federation-abac.json]
    executionRole:
      managedPolicyArns: ["arn:{partition}:iam::aws:policy/AmazonSageMakerFullAccess"]
      policyFiles: [%s/execution-team-data.json]
`, itAccount, itDomain, c.grace, c.deletionCount, itRate, itRate, policies, policies)
}

// samlMetadata is IdP metadata IAM accepts: an EntityDescriptor with an
// IDPSSODescriptor, at least 1,000 characters.
func samlMetadata(version string) []byte {
	cert := strings.Repeat("QUJD", 300)
	return []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://bridge.example/saml/` + version + `">` +
		`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing">` +
		`<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` + cert + `</X509Certificate></X509Data></KeyInfo>` +
		`</KeyDescriptor><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://bridge.example/saml/login"/>` +
		`</IDPSSODescriptor></EntityDescriptor>`)
}

func newITEnv(t *testing.T, c itConfig) *itEnv {
	t.Helper()
	if c.grace == "" {
		c.grace = "720h"
	}
	if c.deletionCount == 0 {
		c.deletionCount = 1000
	}
	if c.propagationWindow == 0 {
		c.propagationWindow = time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clock := &skewClock{}
	emu, url := awsemutest.Start(t, awsemu.Options{AccountID: itAccount, Domains: []awsemu.Domain{{ID: itDomain}}, Faults: c.faults, Now: clock.Now,
		Async: c.async, RoleVisibility: c.roleVisibility})
	// Paced as the daemon's clients are (the configuration's rate
	// limits), so that throttles are retried through the limiter.
	clients, err := bridgeaws.New(ctx, bridgeaws.Options{Region: "us-east-1", IAMEndpoint: url, SageMakerEndpoint: url,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), IAMRate: itRate, SageMakerRate: itRate})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK's retryer backs off up to 20 s after a 5xx; on loopback
	// that only slows the tests down, so its delays are capped (the retry
	// policy itself, codes and attempts, stays the SDK's).
	io := clients.IAM.Options()
	io.Retryer = retry.AddWithMaxBackoffDelay(io.Retryer, 5*time.Millisecond)
	so := clients.SageMaker.Options()
	so.Retryer = retry.AddWithMaxBackoffDelay(so.Retryer, 5*time.Millisecond)

	cfg, err := config.Parse(filepath.Join(t.TempDir(), "bridge.yaml"), []byte(itConfigYAML(c)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "bridge.db"), boltstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &itEnv{t: t, ctx: ctx, emu: emu, st: st, status: NewStoreStatus(st), reg: prometheus.NewRegistry(), clock: clock, md: samlMetadata("v1"),
		iam: iam.New(io), sm: sagemaker.New(so)}
	e.s, err = New(Options{
		Store: st, Status: e.status, Config: cfg, Mapping: m,
		IAM: e.iam, SageMaker: e.sm,
		Metadata:     e.metadata,
		PollInterval: 20 * time.Millisecond, TeamWait: 500 * time.Millisecond, PropagationWindow: c.propagationWindow,
		ResyncInterval: -1, VerifyRate: -1, Workers: 8,
		Backoff: Backoff{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond},
		Metrics: NewMetrics(e.reg), Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

// addTeamUsers creates n users per team, each team a group "team-<name>"
// with its users as members, and returns the user ids by team.
func (e *itEnv) addTeamUsers(teams []string, perTeam int) map[string][]string {
	e.t.Helper()
	out := map[string][]string{}
	for _, team := range teams {
		var ids []string
		for i := range perTeam {
			id := fmt.Sprintf("u-%s-%03d", team, i)
			e.createUser(id, fmt.Sprintf("%s.%d@example.com", team, i))
			ids = append(ids, id)
		}
		if _, err := e.st.CreateGroup(e.ctx, store.Group{ID: "g-" + team, DisplayName: "team-" + team, Data: []byte(`{}`)}, ids); err != nil {
			e.t.Fatal(err)
		}
		out[team] = ids
	}
	return out
}

func (e *itEnv) createUser(id, userName string) {
	e.t.Helper()
	data := fmt.Sprintf(`{"userName":%q,"active":true}`, userName)
	if _, err := e.st.CreateUser(e.ctx, store.User{ID: id, UserName: userName, Active: true, Data: []byte(data)}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *itEnv) setActive(id string, active bool) {
	e.t.Helper()
	_, err := e.st.UpdateUser(e.ctx, id, func(u store.User) (store.User, error) {
		u.Active = active
		return u, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// moveUser takes the user out of one team's group and into another's.
func (e *itEnv) moveUser(id, from, to string) {
	e.t.Helper()
	for _, ch := range []struct {
		group string
		c     store.GroupChange
	}{{"g-" + from, store.GroupChange{Remove: []string{id}}}, {"g-" + to, store.GroupChange{Add: []string{id}}}} {
		if _, err := e.st.UpdateGroup(e.ctx, ch.group, func(store.Group) (store.GroupChange, error) { return ch.c, nil }); err != nil {
			e.t.Fatal(err)
		}
	}
}

// idle reports whether no queue key is due within the next minute: all
// that is left are waits for the grace period or held keys.
func (e *itEnv) idle() bool {
	due, ok, err := e.st.NextDue(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return !ok || due.After(e.clock.Now().Add(time.Minute))
}

// waitFor polls cond until it holds or the deadline passes. The sync runs
// on the wall clock against a real HTTP server, so there is no fake clock
// to step; this only waits for convergence, it never times behaviour.
func (e *itEnv) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

func (e *itEnv) waitIdle(timeout time.Duration) {
	e.t.Helper()
	e.waitFor("the queue to drain", timeout, e.idle)
}

func (e *itEnv) statusOf(key string) Status {
	st, _, _ := e.status.GetStatus(e.ctx, key)
	return st
}

func tagMap(tags []awsemu.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// profileWant is what a converged user's profile looks like.
func (e *itEnv) checkProfile(name, userID, team string) {
	e.t.Helper()
	p, ok := e.emu.Profile(itDomain, name)
	if !ok {
		e.t.Errorf("profile %s missing", name)
		return
	}
	tags := tagMap(p.Tags)
	wantRole := fmt.Sprintf("arn:aws:iam::%s:role/sagebridge/sagebridge-%s-execution", itAccount, team)
	if tags[TagUserID] != userID || tags[TagTeam] != team || tags[itOwner] != "true" || p.ExecutionRole != wantRole {
		e.t.Errorf("profile %s: tags %v, role %s; want userId=%s team=%s and role %s", name, tags, p.ExecutionRole, userID, team, wantRole)
	}
}

// newFakeSyncer builds a Syncer over hand-written fakes and an in-memory
// store, for reconciler unit tests that call Reconcile directly.
func newFakeSyncer(t *testing.T, fi bridgeaws.IAM) *Syncer {
	t.Helper()
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "bridge.yaml"), []byte(itConfigYAML(itConfig{grace: "1h", deletionCount: 10})))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "bridge.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Options{Store: st, Status: NewMemStatus(), Config: cfg, Mapping: m, IAM: fi, SageMaker: fakeSageMaker{},
		Metadata: func() ([]byte, error) { return samlMetadata("v1"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeSageMaker implements no call: tests that use it touch only IAM.
type fakeSageMaker struct{ bridgeaws.SageMaker }
