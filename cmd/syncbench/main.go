// Command syncbench measures the sync engine converging many users against
// the in-process AWS emulator through the real SDK clients, with the
// client-side rate limit per API the daemon would use: the time to
// converge, the calls per service and operation, and the achieved call
// rate as a fraction of the limit (the limiter should be the bottleneck).
// It runs twice: without faults, then with a fraction of the calls
// throttled. Users and groups go into a real bbolt store first; the time
// to converge runs from the start of the sync to the last status record
// that made everything converged, and every profile is then checked in
// the emulator.
//
//	go run ./cmd/syncbench                       # 10,000 users in 100 teams, 50 calls/s
//	go run ./cmd/syncbench -users 500 -teams 10  # a quick run
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"text/tabwriter"
	"time"
)

type options struct {
	users, teams int
	rate         float64
	throttle     float64
	workers      int
	settle       time.Duration
	timeout      time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.users, "users", 10_000, "users to converge")
	flag.IntVar(&o.teams, "teams", 100, "teams (groups team-NNN) the users are spread over")
	flag.Float64Var(&o.rate, "rate", 50, "client rate limit per API (IAM and SageMaker each), calls per second")
	flag.Float64Var(&o.throttle, "throttle", 0.2, "fraction of calls the emulator throttles in the second run; 0 skips that run")
	flag.IntVar(&o.workers, "workers", 0, "sync workers (0: the configuration's default)")
	flag.DurationVar(&o.settle, "settle", 2*time.Second, "how long the emulator keeps a new profile Pending and a new role invisible to SageMaker")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Hour, "give up on a run after this long")
	flag.Parse()
	logs := loggers{
		bench: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		// The sync logs every profile it creates; only its warnings and
		// errors matter here.
		sync: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	log := logs.bench
	if o.users < 1 || o.teams < 1 || o.teams > o.users || o.rate <= 0 || o.throttle < 0 || o.throttle >= 1 {
		log.Error("need users ≥ teams ≥ 1, a positive rate and a throttle fraction in [0, 1)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, logs, os.Stdout); err != nil {
		log.Error("syncbench failed", "err", err)
		os.Exit(1)
	}
}

// loggers are the bench's own log and the syncer's.
type loggers struct{ bench, sync *slog.Logger }

func run(ctx context.Context, o options, logs loggers, out io.Writer) error {
	runs := []struct {
		name     string
		throttle float64
	}{{"clean", 0}, {"throttled", o.throttle}}
	if o.throttle == 0 {
		runs = runs[:1]
	}
	var results []result
	for _, r := range runs {
		logs.bench.Info("run", "name", r.name, "users", o.users, "teams", o.teams, "rate", o.rate, "throttle", r.throttle)
		res, err := converge(ctx, o, r.name, r.throttle, logs)
		if err != nil {
			return fmt.Errorf("run %s: %w", r.name, err)
		}
		results = append(results, res)
	}
	cfg, err := benchConfig(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nsyncbench: %d users in %d teams; client limit %g calls/s per API; %d workers, poll %s; AWS settles in %s\n\n",
		o.users, o.teams, o.rate, cfg.AWS.Sync.Workers, cfg.AWS.Sync.PollInterval.Duration, o.settle)
	report(out, o.rate, results)
	return nil
}

// report prints the figures per run and API, then the calls per operation.
func report(out io.Writer, limit float64, results []result) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\tthrottling\tconverged in\tAPI\tcalls\tthrottled\tfirst–last call\tof limit, run\tof limit, window\ts ≥90% of limit\tidle s\t")
	for _, r := range results {
		for _, svc := range []string{serviceIAM, serviceSageMaker} {
			s := r.services[svc]
			throttled := 0
			for op, n := range r.throttled {
				if r.opService[op] == svc {
					throttled += n
				}
			}
			window := "n/a"
			if f, ok := s.fraction(limit); ok {
				window = fmt.Sprintf("%.2f", f)
			}
			fmt.Fprintf(w, "%s\t%.0f%%\t%s\t%s\t%d\t%d\t%s–%s\t%.2f\t%s\t%d/%d\t%d\t\n",
				r.name, r.throttle*100, r.converge.Round(100*time.Millisecond), svc, s.Calls, throttled,
				s.First.Round(100*time.Millisecond), s.Last.Round(100*time.Millisecond),
				float64(s.Calls)/r.converge.Seconds()/limit, window, s.AtLimit, s.Seconds, s.Idle)
		}
	}
	w.Flush()
	fmt.Fprintln(out, "(of limit, run: calls / time to converge / limit; window: calls in the whole seconds between the API's first and last call)")

	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "operation\tAPI\t")
	for _, r := range results {
		fmt.Fprintf(w, "%s: calls\tthrottled\tother errors\t", r.name)
	}
	fmt.Fprintln(w)
	ops := map[string]string{}
	for _, r := range results {
		maps.Copy(ops, r.opService)
	}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		fmt.Fprintf(w, "%s\t%s\t", op, ops[op])
		for _, r := range results {
			fmt.Fprintf(w, "%d\t%d\t%d\t", r.ops[op], r.throttled[op], r.errors[op])
		}
		fmt.Fprintln(w)
	}
	w.Flush()
}
