package configtest

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/metrics"
	"github.com/sagebridge/sagebridge/internal/saml"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
	"github.com/sagebridge/sagebridge/internal/sync"
)

type noStats struct{}

func (noStats) Stats(context.Context) (store.Stats, error) { return store.Stats{}, nil }

// daemonRegistry registers what the daemon registers (cmd/bridge serve:
// internal/metrics, the sync's instruments and the sign-in bridge's on one
// registry) and gives every labelled family one child, so that the
// exposition lists it.
func daemonRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	touchVecs(t, metrics.New(reg, noStats{}))
	touchVecs(t, sync.NewMetrics(reg))
	registerSignIn(t, reg)
	return reg
}

// registerSignIn registers the sign-in metrics as the daemon does: they are
// created and registered inside saml.New, so a bridge is built from
// configs/dev.yaml over a store in a temporary directory, and the
// collectors it registers are caught on the way to reg.
func registerSignIn(t *testing.T, reg prometheus.Registerer) {
	t.Helper()
	cfg, m := checkConfig(t, "dev.yaml")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "bridge.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rec := &recorder{Registerer: reg}
	if _, err := saml.New(t.Context(), saml.Options{Store: st, Config: cfg, Mapping: m, Registry: rec}); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) == 0 {
		t.Fatal("saml.New registered no metrics")
	}
	for _, c := range rec.got {
		touchCollector(t, c)
	}
}

// recorder passes registrations on and keeps the collectors, for the
// packages that build their metrics privately.
type recorder struct {
	prometheus.Registerer
	got []prometheus.Collector
}

func (r *recorder) Register(c prometheus.Collector) error {
	if err := r.Registerer.Register(c); err != nil {
		return err
	}
	r.got = append(r.got, c)
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// touchCollector creates one child of c if it is a vector (CounterVec,
// HistogramVec, ...: a struct around a *prometheus.MetricVec).
func touchCollector(t *testing.T, c prometheus.Collector) {
	t.Helper()
	v := reflect.ValueOf(c)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	inner := v.Elem().FieldByName("MetricVec")
	if !inner.IsValid() || inner.Type() != reflect.TypeFor[*prometheus.MetricVec]() {
		return
	}
	if !touch(inner.Interface().(*prometheus.MetricVec)) {
		t.Fatalf("%T: no label count from 0 to 10 fits", c)
	}
}

// touchVecs creates one child of every vector field of the struct m
// points to. A vector has no series until a label set is used, and one
// without series is neither in the exposition nor linted.
func touchVecs(t *testing.T, m any) {
	t.Helper()
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.CanInterface() {
			if c, ok := f.Interface().(prometheus.Collector); ok {
				touchCollector(t, c)
			}
		}
	}
}

// touch tries label counts until the vector accepts one.
func touch(vec *prometheus.MetricVec) bool {
	for n := range 11 {
		if _, err := vec.GetMetricWithLabelValues(make([]string, n)...); err == nil {
			return true
		}
	}
	return false
}

// family is what the rules may refer to: a family's type (HISTOGRAM,
// COUNTER, ...) and label names.
type family struct {
	typ    string
	labels map[string]bool
}

// exposedSeries maps every series name the text exposition shows
// (histograms' _bucket, _sum and _count included) to its family.
func exposedSeries(t *testing.T, reg prometheus.Gatherer) map[string]family {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]family{}
	for _, mf := range mfs {
		f := family{typ: mf.GetType().String(), labels: map[string]bool{}}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				f.labels[lp.GetName()] = true
			}
		}
		name := mf.GetName()
		out[name] = f
		var suffixes []string
		switch f.typ {
		case "HISTOGRAM", "GAUGE_HISTOGRAM":
			suffixes = []string{"_bucket", "_sum", "_count"}
		case "SUMMARY":
			suffixes = []string{"_sum", "_count"}
		}
		for _, s := range suffixes {
			sf := family{typ: f.typ, labels: f.labels}
			if s == "_bucket" {
				sf.labels = withLabel(f.labels, "le")
			}
			out[name+s] = sf
		}
		if f.typ == "SUMMARY" {
			out[name] = family{typ: f.typ, labels: withLabel(f.labels, "quantile")}
		}
	}
	return out
}

func withLabel(labels map[string]bool, l string) map[string]bool {
	out := map[string]bool{l: true}
	for k := range labels {
		out[k] = true
	}
	return out
}

func TestExpositionLints(t *testing.T) {
	problems, err := testutil.GatherAndLint(daemonRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
