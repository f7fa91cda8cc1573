package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sagebridge/sagebridge/configs"
	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/awsemu"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// result is what one run measured.
type result struct {
	name     string
	throttle float64
	// converge is from the start of the sync to the last status record
	// that made the state converged.
	converge time.Duration
	services map[string]serviceStats
	// ops are the emulator's calls per operation, failures included;
	// throttled the throttled ones, errors the other non-ok outcomes.
	ops       map[string]int
	opService map[string]string
	throttled map[string]int
	errors    map[string]int
}

// bench is one run's world: the emulator behind the meter, the store, and
// the syncer over the real SDK clients.
type bench struct {
	o      options
	cfg    *config.Config
	m      *mapping.Mapping
	emu    *awsemu.Emulator
	meter  *meter
	st     *boltstore.Store
	status bridgesync.StatusStore
	log    *slog.Logger
	// syncLog is the syncer's.
	syncLog *slog.Logger
}

// converge runs one scenario from an empty emulator and store to a
// converged, verified state.
func converge(ctx context.Context, o options, name string, throttle float64, logs loggers) (result, error) {
	cfg, err := benchConfig(o)
	if err != nil {
		return result{}, err
	}
	m, err := mapping.New(cfg)
	if err != nil {
		return result{}, fmt.Errorf("mapping: %w", err)
	}
	dir, err := os.MkdirTemp("", "syncbench")
	if err != nil {
		return result{}, fmt.Errorf("data directory: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := boltstore.Open(filepath.Join(dir, "bridge.db"), boltstore.Options{})
	if err != nil {
		return result{}, fmt.Errorf("store: %w", err)
	}
	defer st.Close()
	b := &bench{o: o, cfg: cfg, m: m, st: st, status: bridgesync.NewStoreStatus(st), log: logs.bench.With("run", name), syncLog: logs.sync.With("run", name)}
	b.emu = awsemu.New(awsemu.Options{
		AccountID: cfg.AWS.AccountID, Region: cfg.AWS.Region,
		Domains: []awsemu.Domain{{ID: cfg.AWS.SageMaker.DomainID}},
		// AWS settles in time, not in looks: a new or updated profile is
		// Pending, and a new role invisible to SageMaker, for a few
		// seconds. (Counted in looks, a role first used minutes after its
		// creation, behind thousands of queued users, would still be
		// refused once.)
		Async:          awsemu.Transition{Observations: -1, Delay: o.settle},
		RoleVisibility: awsemu.Transition{Observations: -1, Delay: o.settle},
		Faults:         awsemu.Faults{ThrottleFraction: throttle, Seed: 1},
	})

	loadStart := time.Now()
	if err := b.load(ctx); err != nil {
		return result{}, err
	}
	b.log.Info("store loaded", "users", o.users, "teams", o.teams, "took", time.Since(loadStart).Round(time.Millisecond))

	start := time.Now()
	b.meter = newMeter(b.emu, start)
	url, stopEmu, err := serveMeter(b.meter)
	if err != nil {
		return result{}, err
	}
	defer stopEmu()
	s, err := b.syncer(ctx, url)
	if err != nil {
		return result{}, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	var runErr error
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		runErr = s.Run(runCtx)
	}()
	last, werr := b.waitConverged(ctx, start, stopped)
	cancel()
	<-stopped
	if err := errors.Join(werr, runErr); err != nil {
		return result{}, err
	}
	if err := b.verify(); err != nil {
		return result{}, fmt.Errorf("%s: converged by the records but not in the emulator: %w", name, err)
	}
	return b.result(name, throttle, last.Sub(start)), nil
}

// benchConfig is dev mode's configuration (every group team-NNN a team
// NNN) with the run's rate limits and workers.
func benchConfig(o options) (*config.Config, error) {
	cfg, err := config.ParseFS(configs.FS, configs.DevPath)
	if err != nil {
		return nil, fmt.Errorf("dev configuration: %w", err)
	}
	cfg.AWS.RateLimits = config.RateLimits{IAM: o.rate, SageMaker: o.rate}
	if o.workers > 0 {
		cfg.AWS.Sync.Workers = o.workers
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bench configuration: %w", err)
	}
	return cfg, nil
}

func serveMeter(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("emulator listener: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// User i is stored as u<i> with userName user-<i>@bench.example, which
// the mapping turns into userId and profile name user-<i>.
func storeID(i int) string  { return fmt.Sprintf("u%05d", i) }
func userName(i int) string { return fmt.Sprintf("user-%05d@bench.example", i) }
func teamName(t int) string { return fmt.Sprintf("%03d", t) }

// load stores the users, then one group team-NNN per team with its
// members (user i is in team i mod teams), as the IdP would push them.
func (b *bench) load(ctx context.Context) error {
	const writers = 16
	ids := make(chan int)
	var mu gosync.Mutex
	var errs []error
	var wg gosync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range ids {
				u := store.User{ID: storeID(i), UserName: userName(i), Active: true,
					Data: fmt.Appendf(nil, `{"userName":%q,"active":true}`, userName(i))}
				if _, err := b.st.CreateUser(ctx, u); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("create user %d: %w", i, err))
					mu.Unlock()
				}
			}
		})
	}
	for i := range b.o.users {
		ids <- i
	}
	close(ids)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d users not stored, the first: %w", len(errs), errs[0])
	}
	for t := range b.o.teams {
		var members []string
		for i := t; i < b.o.users; i += b.o.teams {
			members = append(members, storeID(i))
		}
		g := store.Group{ID: "g" + teamName(t), DisplayName: "team-" + teamName(t), Data: []byte(`{}`)}
		if _, err := b.st.CreateGroup(ctx, g, members); err != nil {
			return fmt.Errorf("create group %s: %w", g.DisplayName, err)
		}
	}
	return nil
}

// syncer builds the daemon's syncer over SDK clients pointed at url, with
// the configuration's pacing. The verification sweep is off: it only
// re-reads converged keys, at 0.1 per second by default, and would move
// the records' convergence times.
func (b *bench) syncer(ctx context.Context, url string) (*bridgesync.Syncer, error) {
	a := b.cfg.AWS
	clients, err := bridgeaws.New(ctx, bridgeaws.Options{
		Region: a.Region, IAMEndpoint: url, SageMakerEndpoint: url,
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		IAMRate:     a.RateLimits.IAM, SageMakerRate: a.RateLimits.SageMaker,
	})
	if err != nil {
		return nil, fmt.Errorf("AWS clients: %w", err)
	}
	s, err := bridgesync.New(bridgesync.Options{
		Store: b.st, Status: b.status, Config: b.cfg, Mapping: b.m,
		IAM: clients.IAM, SageMaker: clients.SageMaker,
		Workers: a.Sync.Workers, PollInterval: a.Sync.PollInterval.Duration,
		ResyncInterval: a.Sync.ResyncInterval.Duration, VerifyRate: -1,
		Metrics: bridgesync.NewMetrics(prometheus.NewRegistry()),
		Logger:  b.syncLog,
	})
	if err != nil {
		return nil, fmt.Errorf("syncer: %w", err)
	}
	return s, nil
}

// progress is the records' view of a run.
type progress struct {
	users, teams, problems, settling int
	// last is the latest time a record was found converged.
	last time.Time
	// idle: nothing is queued to run within the next minute.
	idle bool
}

func (p progress) converged(o options) bool {
	return p.idle && p.users == o.users && p.teams == o.teams && p.problems == 0 && p.settling == 0
}

// waitConverged polls the records until everything has converged and
// returns when the last record did. It gives up at the run's timeout, or
// when the syncer stops on its own.
func (b *bench) waitConverged(ctx context.Context, start time.Time, stopped <-chan struct{}) (time.Time, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.After(b.o.timeout)
	lastLog := start
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-stopped:
			return time.Time{}, errors.New("the syncer stopped before converging")
		case <-deadline:
			p, _ := b.progress(ctx)
			return time.Time{}, fmt.Errorf("not converged after %s: %+v", b.o.timeout, p)
		case now := <-tick.C:
			p, err := b.progress(ctx)
			if err != nil {
				return time.Time{}, err
			}
			if p.converged(b.o) {
				return p.last, nil
			}
			if now.Sub(lastLog) >= 30*time.Second {
				lastLog = now
				b.log.Info("converging", "elapsed", now.Sub(start).Round(time.Second), "users", p.users, "teams", p.teams,
					"problems", p.problems, "iamCalls", b.meter.stats(serviceIAM, b.o.rate).Calls, "sagemakerCalls", b.meter.stats(serviceSageMaker, b.o.rate).Calls)
			}
		}
	}
}

func (b *bench) progress(ctx context.Context) (progress, error) {
	var p progress
	due, queued, err := b.st.NextDue(ctx)
	if err != nil {
		return p, fmt.Errorf("queue: %w", err)
	}
	p.idle = !queued || due.After(time.Now().Add(time.Minute))
	for after := ""; ; {
		page, err := b.status.ScanStatus(ctx, after, 1000)
		if err != nil {
			return p, fmt.Errorf("status records: %w", err)
		}
		for _, s := range page {
			kind := bridgesync.Kind(s.Key)
			switch s.State {
			case bridgesync.StateConverged:
				switch kind {
				case "user":
					p.users++
				case "team":
					p.teams++
				}
				if s.AppliedAt.After(p.last) {
					p.last = s.AppliedAt
				}
			case bridgesync.StateFailed, bridgesync.StateConflict, bridgesync.StateHeld:
				p.problems++
			case bridgesync.StatePending, bridgesync.StateDeleting:
				p.settling++
			}
		}
		if len(page) < 1000 {
			return p, nil
		}
		after = page[len(page)-1].Key
	}
}

// verify checks the emulator itself: exactly one profile per user, with
// the userId, team and ownership tags and the team's execution role, and
// both roles of every team.
func (b *bench) verify() error {
	owner := b.cfg.AWS.OwnershipTag
	snap := b.emu.Snapshot()
	roleARN := map[string]string{}
	for _, r := range snap.Roles {
		roleARN[r.Name] = r.Arn
	}
	domain := b.cfg.AWS.SageMaker.DomainID
	profiles := map[string]awsemu.ProfileState{}
	for _, p := range snap.Profiles {
		if p.DomainID == domain {
			profiles[p.Name] = p
		}
	}
	var problems []string
	if len(profiles) != b.o.users {
		problems = append(problems, fmt.Sprintf("%d profiles in the domain, want %d", len(profiles), b.o.users))
	}
	execARN := map[string]string{}
	for t := range b.o.teams {
		team, err := b.m.Team(teamName(t))
		if err != nil {
			return err
		}
		fed, exec := roleARN[team.FederationRole.Name], roleARN[team.ExecutionRole.Name]
		if fed == "" || exec == "" {
			problems = append(problems, fmt.Sprintf("team %s: roles missing (federation %q, execution %q)", team.Name, fed, exec))
		}
		execARN[team.Name] = exec
	}
	for i := range b.o.users {
		uid, _, _ := strings.Cut(userName(i), "@")
		team := teamName(i % b.o.teams)
		p, ok := profiles[uid]
		if !ok {
			problems = append(problems, "no profile "+uid)
			continue
		}
		tags := map[string]string{}
		for _, t := range p.Tags {
			tags[t.Key] = t.Value
		}
		if tags[bridgesync.TagUserID] != uid || tags[bridgesync.TagTeam] != team || tags[owner.Key] != owner.Value ||
			p.ExecutionRole != execARN[team] || p.Status != "InService" {
			problems = append(problems, fmt.Sprintf("profile %s: %s, tags %v, role %s; want team %s, role %s",
				uid, p.Status, tags, p.ExecutionRole, team, execARN[team]))
		}
	}
	if len(problems) > 0 {
		const show = 5
		more := ""
		if len(problems) > show {
			more = fmt.Sprintf(" (and %d more)", len(problems)-show)
			problems = problems[:show]
		}
		return errors.New(strings.Join(problems, "; ") + more)
	}
	return nil
}

func (b *bench) result(name string, throttle float64, converge time.Duration) result {
	r := result{name: name, throttle: throttle, converge: converge,
		services:  map[string]serviceStats{},
		ops:       b.emu.Calls(),
		opService: map[string]string{}, throttled: map[string]int{}, errors: map[string]int{}}
	for _, svc := range []string{serviceIAM, serviceSageMaker} {
		r.services[svc] = b.meter.stats(svc, b.o.rate)
	}
	for op := range r.ops {
		r.opService[op] = b.meter.service(op)
	}
	for oc, n := range b.emu.Outcomes() {
		switch {
		case oc.Result == "ok":
		case strings.HasPrefix(oc.Result, "injected:Throttling"):
			r.throttled[oc.Op] += n
		default:
			r.errors[oc.Op] += n
		}
	}
	return r
}
