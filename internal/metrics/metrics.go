// Package metrics defines sagebridge's Prometheus metrics on a registry the
// caller owns. Counters and histograms are updated where things happen;
// state (how many users are stored) is read from the store at scrape time.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sagebridge/sagebridge/internal/store"
)

const namespace = "sagebridge"

// Metrics holds the instruments the request paths update.
type Metrics struct {
	SCIMRequests *prometheus.CounterVec
	SCIMDuration *prometheus.HistogramVec
	SCIMRejected *prometheus.CounterVec
}

// StatsSource is what the scrape-time collector reads.
type StatsSource interface {
	Stats(ctx context.Context) (store.Stats, error)
}

// New creates the metrics and registers them, the Go and process
// collectors, and a collector of store state, on reg.
func New(reg prometheus.Registerer, stats StatsSource) *Metrics {
	m := &Metrics{
		SCIMRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scim", Name: "requests_total",
			Help: "SCIM requests by resource type, method and HTTP status.",
		}, []string{"resource", "method", "status"}),
		SCIMDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "scim", Name: "request_duration_seconds",
			Help:    "SCIM request latency by resource type and method, including the durable commit.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"resource", "method"}),
		SCIMRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scim", Name: "rejected_total",
			Help: "SCIM requests refused before handling, by reason (unauthorized, overload, too_large).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.SCIMRequests, m.SCIMDuration, m.SCIMRejected,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{src: stats})
	return m
}

var (
	usersDesc  = prometheus.NewDesc(namespace+"_store_users", "Users stored.", nil, nil)
	groupsDesc = prometheus.NewDesc(namespace+"_store_groups", "Groups stored.", nil, nil)
	queueDesc  = prometheus.NewDesc(namespace+"_sync_queue_depth", "Keys waiting on the durable sync queue.", nil, nil)
	upDesc     = prometheus.NewDesc(namespace+"_store_up", "1 when the store answered the last scrape.", nil, nil)
)

// storeCollector reads the store's O(1) counters once per scrape, so the
// gauges can never drift from what is on disk.
type storeCollector struct{ src StatsSource }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- usersDesc
	ch <- groupsDesc
	ch <- queueDesc
	ch <- upDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.src.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(usersDesc, prometheus.GaugeValue, float64(s.Users))
	ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(s.Groups))
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(s.QueueDepth))
}
