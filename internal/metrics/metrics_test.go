package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/store"
)

type fakeStats struct {
	s   store.Stats
	err error
}

func (f fakeStats) Stats(context.Context) (store.Stats, error) { return f.s, f.err }

func TestStoreGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, fakeStats{s: store.Stats{Users: 3, Groups: 2, QueueDepth: 5}})
	m.SCIMRequests.WithLabelValues("User", "POST", "201").Inc()
	m.SCIMDuration.WithLabelValues("User", "POST").Observe(0.002)
	m.SCIMRejected.WithLabelValues("overload").Inc()

	want := `
# HELP sagebridge_store_users Users stored.
# TYPE sagebridge_store_users gauge
sagebridge_store_users 3
# HELP sagebridge_store_groups Groups stored.
# TYPE sagebridge_store_groups gauge
sagebridge_store_groups 2
# HELP sagebridge_sync_queue_depth Keys waiting on the durable sync queue.
# TYPE sagebridge_sync_queue_depth gauge
sagebridge_sync_queue_depth 5
# HELP sagebridge_store_up 1 when the store answered the last scrape.
# TYPE sagebridge_store_up gauge
sagebridge_store_up 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"sagebridge_store_users", "sagebridge_store_groups", "sagebridge_sync_queue_depth", "sagebridge_store_up"); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestStoreDownIsReported(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg, fakeStats{err: errors.New("closed")})
	want := "# HELP sagebridge_store_up 1 when the store answered the last scrape.\n# TYPE sagebridge_store_up gauge\nsagebridge_store_up 0\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sagebridge_store_up", "sagebridge_store_users"); err != nil {
		t.Fatal(err)
	}
}
