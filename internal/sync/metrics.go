package sync

import (
	"github.com/prometheus/client_golang/prometheus"
)

const metricsNamespace = "sagebridge"

// Metrics are the sync engine's instruments. The queue depth is not here:
// the store's scrape-time collector (internal/metrics) reports it from the
// store's own counter.
type Metrics struct {
	// Reconciles counts reconciles by key kind and result: success,
	// requeue, error, throttled, terminal, panic, canceled.
	Reconciles *prometheus.CounterVec
	Duration   *prometheus.HistogramVec
	Panics     *prometheus.CounterVec
	// AWSCalls counts API calls as the sync saw them (after the SDK's own
	// retries) by service, operation and code: "ok", the API error code,
	// or "error" for a failure without one.
	AWSCalls *prometheus.CounterVec
	// Drift counts differences found between AWS and what the sync had
	// applied, by kind of resource.
	Drift *prometheus.CounterVec
	// Conflicts counts resources the sync would have to change but does
	// not own, and identity collisions, by kind.
	Conflicts *prometheus.CounterVec
	// DeletionsHeld is the number of deletions waiting for approval.
	DeletionsHeld prometheus.Gauge
	// LastResync is when the last full resync was enqueued (Unix seconds);
	// time() minus it is the time since the last full resync.
	LastResync prometheus.Gauge
}

// NewMetrics creates the instruments and registers them on reg; a nil reg
// leaves them unregistered, which tests that do not read metrics use.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "reconciles_total",
			Help: "Reconciles by key kind and result (success, requeue, error, throttled, terminal, panic, canceled).",
		}, []string{"kind", "result"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "reconcile_duration_seconds",
			Help:    "Time one reconcile took, AWS calls and client-side rate limiting included, by key kind.",
			Buckets: []float64{.001, .005, .025, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind"}),
		Panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "reconcile_panics_total",
			Help: "Reconciles that panicked (recovered and retried), by key kind.",
		}, []string{"kind"}),
		AWSCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "aws_calls_total",
			Help: "AWS API calls after the SDK's retries, by service, operation and code (ok, the API error code, or error).",
		}, []string{"service", "operation", "code"}),
		Drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "drift_found_total",
			Help: "Differences found between AWS and what the sync had applied, by resource kind.",
		}, []string{"kind"}),
		Conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "conflicts_total",
			Help: "Resources left alone because they lack the ownership tag, and identity collisions, by kind.",
		}, []string{"kind"}),
		DeletionsHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "deletions_held",
			Help: "Deletions held by the deletion threshold until `bridge approve`.",
		}),
		LastResync: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Subsystem: "sync", Name: "last_full_resync_timestamp_seconds",
			Help: "When the last full resync was enqueued, in Unix seconds.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Reconciles, m.Duration, m.Panics, m.AWSCalls, m.Drift, m.Conflicts, m.DeletionsHeld, m.LastResync)
	}
	return m
}
